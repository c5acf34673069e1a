/**
 * Self-contained mode: starts our own test server (and our proxy, once its MCP OAuth exists) on
 * free ports and describes them as targets.
 *
 * This is the ONLY file of conformance/src that loads code from test-server/ or proxy/, and it
 * does so dynamically through their public start functions (`startTestServer`, `startProxy`),
 * exactly as a CI script would start the processes. The suites never see anything but URLs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
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
  return server as unknown as RunningTestServerHandle;
}

/** A free loopback port (the proxy's port must be known before the test server starts). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Two workspaces of the seed's Custom OAuth shape over one test server (cross-workspace checks). */
function proxyConfig(upstreamUrl: string, clientSecret: string, ids: string[]): unknown {
  return {
    workspaces: ids.map((id) => ({
      id,
      name: `Conformance ${id}`,
      spec: `${upstreamUrl}/openapi.json`,
      auth: {
        type: 'oauth2',
        provider: 'custom',
        grant: 'authorization_code',
        authorizationUrl: `${upstreamUrl}/auth/authorize`,
        tokenUrl: `${upstreamUrl}/auth/token`,
        clientId: 'test-client-id',
        clientSecret,
        scopes: ['items:read', 'items:write', 'users:read'],
        pkce: true,
        state: true,
      },
    })),
  };
}

/**
 * Waits until `url` answers, a bounded number of tries: pooled keep-alive sockets to the old
 * process fail once ("other side closed") before fresh ones are opened.
 */
async function settle(url: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${url} did not answer after the restart`);
}

interface RunningProxyHandle {
  url: string;
  close(): Promise<void>;
}

/** Our proxy's documented defaults, which the black-box suites cannot discover. */
// Short lifetimes (startProxy's public `oauthLifetimes`) so that the expiry checks run here
// instead of being skipped as "longer than this check waits".
const OUR_PROXY_REFRESH_GRACE_S = 3;
const OUR_PROXY_STATE_TTL_S = 10;
const OUR_PROXY_ACCESS_TOKEN_TTL_S = 10;

/** Starts the self-contained stack: test server always, our proxy when its OAuth module exists. */
export async function startSelfContained(
  options: { withProxy?: boolean } = {},
): Promise<SelfContainedStack> {
  const startProxy =
    options.withProxy === false ? undefined : loadStart('proxy/src/server', 'startProxy');
  const oauthReady = existsSync(join(ROOT, 'proxy/src/oauth/index.ts'));
  const proxyPort = startProxy && oauthReady ? await freePort() : undefined;
  const server = await startOurTestServer({
    autoApprove: false,
    ...(proxyPort
      ? {
          redirectUris: [
            SELF_CONTAINED_REDIRECT_URI,
            `http://localhost:${proxyPort}/oauth/callback`,
          ],
        }
      : {}),
  });
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
  if (!startProxy || !proxyPort) {
    return {
      targets,
      proxyUnavailable: 'our proxy (proxy/src/server.ts with proxy/src/oauth) is not available',
      close: () => server.close(),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'conformance-proxy-'));
  const configPath = join(dir, 'proxy.json');
  const ids = ['conformance-a', 'conformance-b'];
  writeFileSync(configPath, JSON.stringify(proxyConfig(server.url, server.clientSecret, ids)));
  const launch = async (): Promise<RunningProxyHandle> => {
    const proxy = await startProxy({
      port: proxyPort,
      dataDir: join(dir, 'data'),
      config: configPath,
      logger: pino({ level: 'silent' }),
      adminToken: randomBytes(16).toString('hex'),
      oauthLifetimes: {
        accessToken: OUR_PROXY_ACCESS_TOKEN_TTL_S,
        flow: OUR_PROXY_STATE_TTL_S,
        refreshGrace: OUR_PROXY_REFRESH_GRACE_S,
      },
    });
    if (!isObject(proxy) || typeof proxy.url !== 'string' || typeof proxy.close !== 'function') {
      throw new Error('startProxy returned an unexpected value');
    }
    return proxy as unknown as RunningProxyHandle;
  };
  let proxy: RunningProxyHandle | undefined;
  try {
    proxy = await launch();
  } catch (error) {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const base = proxy.url.replace(/\/$/, '');
  targets.proxy = {
    mcpUrls: ids.map((id) => `${base}/mcp/${id}`),
    tool: 'listItems',
    refreshGrace: OUR_PROXY_REFRESH_GRACE_S,
    stateTtl: OUR_PROXY_STATE_TTL_S,
    restart: async () => {
      await proxy?.close();
      proxy = await launch();
      await settle(`${base}/.well-known/oauth-protected-resource/mcp/${ids[0]}`);
    },
  };
  return {
    targets,
    close: async () => {
      await proxy?.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
