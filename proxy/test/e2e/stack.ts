/**
 * The seed's setup as `npm start` builds it, for the real-client tests: the test server in oauth
 * mode and the proxy serving fixtures/workspaces/oauth.yaml (`test-oauth`), both on free ports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type RunningTestServer, startTestServer } from '../../../test-server/src/server';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { createOAuthModule, type OAuthModuleOptions } from '../../src/oauth';
import { type RunningProxy, startProxy } from '../../src/server';

export const ROOT = join(__dirname, '..', '..', '..');
export const SEED_CONFIG = join(ROOT, 'fixtures', 'workspaces', 'oauth.yaml');
export const WORKSPACE_ID = 'test-oauth';
export const FIVE_TOOLS = ['createItem', 'deleteItem', 'getItem', 'listItems', 'listUsers'];

export interface SeedStackOptions {
  /** The test server skips its login and consent pages (alice). */
  autoApprove: boolean;
  /** Timings of the proxy's own authorization server (ms), e.g. a short access-token TTL. */
  timings?: OAuthModuleOptions['timings'];
}

export interface Counters {
  endpoints: Record<string, number>;
  grants: Record<string, { requests: number; ok: number; errors: number }>;
  errors: Record<string, number>;
}

export interface SeedStack {
  upstream: RunningTestServer;
  proxy: RunningProxy;
  /** `<proxy>/mcp/test-oauth` */
  mcpUrl: string;
  dataDir: string;
  /** The proxy's log lines (warn and above), for diagnostics. */
  logs: string[];
  /** Calls the test server's control API; throws on a non-2xx answer. */
  control<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  close(): Promise<void>;
}

/** Starts the test server and the proxy with the seed's workspace file pointed at it. */
export async function startSeedStack(options: SeedStackOptions): Promise<SeedStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-proxy-'));
  const logs: string[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  });
  // The proxy listens first: the test server's pre-registered client must know its callback.
  const proxy = await startProxy({
    port: 0,
    dataDir,
    logger,
    oauth: ({ store, publicUrl, logger: log }) =>
      createOAuthModule({
        store,
        publicUrl,
        logger: log,
        ...(options.timings === undefined ? {} : { timings: options.timings }),
      }),
  });
  let upstream: RunningTestServer | undefined;
  try {
    upstream = await startTestServer({
      mode: 'oauth',
      port: 0,
      autoApprove: options.autoApprove,
      quiet: true,
      redirectUris: [`${proxy.url}/oauth/callback`],
    });
    // The seed's own file, with the values `npm start` gives it.
    const config = loadConfig(SEED_CONFIG, {
      env: { TEST_SERVER_URL: upstream.url, TEST_CLIENT_SECRET: upstream.clientSecret },
    });
    for (const definition of config.workspaces) {
      proxy.service.upsert({ ...definition, id: definition.id ?? '' }, config.baseDir);
    }
  } catch (error) {
    await proxy.close();
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const server = upstream;
  return {
    upstream: server,
    proxy,
    mcpUrl: `${proxy.url}/mcp/${WORKSPACE_ID}`,
    dataDir,
    logs,
    async control<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
      const response = await fetch(`${server.url}/__control${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${server.controlToken}`,
          'content-type': 'application/json',
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(5_000),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`control ${path}: ${response.status} ${text}`);
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },
    async close() {
      await proxy.close();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or throws. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
