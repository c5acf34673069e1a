/**
 * Self-contained mode: starts our own test server (and our proxy, once its MCP OAuth exists) on
 * free ports and describes them as targets.
 *
 * This is the ONLY file of conformance/src that loads code from test-server/ or proxy/, and it
 * does so dynamically through their public start functions (`startTestServer`, `startProxy`),
 * exactly as a CI script would start the processes. The suites never see anything but URLs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isObject } from './oauth/json';
import type { Targets } from './types';

const ROOT = join(__dirname, '..', '..');

/** The redirect URI the harness registers; its user agent stops there, nothing listens. */
export const SELF_CONTAINED_REDIRECT_URI = 'http://127.0.0.1:9/conformance/callback';

export interface RunningTestServerHandle {
  url: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  controlToken: string;
  close(): Promise<void>;
}

export interface SelfContainedStack {
  targets: Targets;
  /** Why the proxy suites will be skipped, when our proxy could not be started. */
  proxyUnavailable?: string;
  close(): Promise<void>;
}

function loadStart(
  relative: string,
  name: string,
): ((options: Record<string, unknown>) => Promise<unknown>) | undefined {
  const file = join(ROOT, relative);
  if (!existsSync(`${file}.ts`)) return undefined;
  // Dynamic on purpose: the harness has no static dependency on the parts it tests.
  const mod: unknown = require(file);
  const start = isObject(mod) ? mod[name] : undefined;
  return typeof start === 'function'
    ? (start as (options: Record<string, unknown>) => Promise<unknown>)
    : undefined;
}

/** Starts our test server on a free port through its public start function. */
export async function startOurTestServer(
  options: Record<string, unknown> = {},
): Promise<RunningTestServerHandle> {
  const start = loadStart('test-server/src/server', 'startTestServer');
  if (!start) throw new Error('test-server/src/server.ts with startTestServer is not available');
  const server = await start({
    mode: 'oauth',
    port: 0,
    quiet: true,
    controlToken: `ct_${randomBytes(16).toString('base64url')}`,
    redirectUris: [SELF_CONTAINED_REDIRECT_URI],
    ...options,
  });
  if (!isObject(server) || typeof server.url !== 'string' || typeof server.close !== 'function') {
    throw new Error('startTestServer returned an unexpected value');
  }
  const s = server as unknown as RunningTestServerHandle;
  return s;
}

/** Starts the self-contained stack: test server always, proxy when it can. */
export async function startSelfContained(): Promise<SelfContainedStack> {
  const server = await startOurTestServer();
  const targets: Targets = {
    as: {
      issuer: server.issuer,
      clientId: server.clientId,
      clientSecret: server.clientSecret,
      clientAuth: 'client_secret_basic',
      redirectUri: SELF_CONTAINED_REDIRECT_URI,
      username: 'alice',
      password: 'alice-pass',
    },
    upstream: {
      url: server.url,
      controlToken: server.controlToken,
      username: 'alice',
      password: 'alice-pass',
    },
  };
  return {
    targets,
    proxyUnavailable:
      'our proxy is not started by --self-contained yet (its MCP OAuth has not landed)',
    close: () => server.close(),
  };
}
