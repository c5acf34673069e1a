/**
 * The stack the OAuth tests run against: the test server (oauth mode, port 0) as the upstream,
 * and a proxy (store in a temp dir, the OAuth module, the MCP router) with the seed's workspace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  type RunningTestServer,
  startTestServer,
  type TestServerOptions,
} from '../../../test-server/src/server';
import { createLogger } from '../../src/log';
import { createOAuthModule, type OAuthModule, type OAuthModuleOptions } from '../../src/oauth';
import { startProxy } from '../../src/server';
import type { ProxyStore } from '../../src/store';
import type { OAuth2UpstreamAuth, Workspace } from '../../src/types';

export const WORKSPACE_ID = 'test-oauth';

export interface OAuthStackOptions {
  autoApprove?: boolean;
  /** Overrides of the seed's Custom OAuth settings (a function gets the running test server). */
  auth?:
    | Partial<OAuth2UpstreamAuth>
    | ((upstream: RunningTestServer) => Partial<OAuth2UpstreamAuth>);
  /** Test-server options beyond the defaults (mode, registrationToken, …). */
  upstream?: Partial<TestServerOptions>;
  accessTokenTtl?: number;
  module?: Partial<Omit<OAuthModuleOptions, 'store' | 'publicUrl'>>;
  /** Keep the data dir (to reopen it); the caller removes it. */
  dataDir?: string;
}

export interface OAuthStack {
  upstream: RunningTestServer;
  proxyUrl: string;
  mcpUrl: string;
  store: ProxyStore;
  oauth: OAuthModule;
  dataDir: string;
  workspace: Workspace;
  /** Every log line the proxy wrote. */
  logs: string[];
  control(path: string, init?: { method?: string; body?: unknown }): Promise<unknown>;
  close(): Promise<void>;
}

/** The seed's workspace for a running test server. */
export function seedWorkspace(
  upstream: RunningTestServer,
  auth: Partial<OAuth2UpstreamAuth> = {},
): Workspace {
  const now = new Date().toISOString();
  return {
    id: WORKSPACE_ID,
    name: 'Test OAuth API',
    spec: { kind: 'url', url: `${upstream.url}/openapi.json` },
    auth: {
      type: 'oauth2',
      provider: 'custom',
      grant: 'authorization_code',
      authorizationUrl: `${upstream.url}/auth/authorize`,
      tokenUrl: `${upstream.url}/auth/token`,
      clientId: upstream.clientId,
      clientSecret: upstream.clientSecret,
      scopes: ['items:read', 'items:write', 'users:read'],
      pkce: true,
      state: true,
      ...auth,
    },
    tools: { enabled: 'all', disabled: [] },
    public: false,
    createdAt: now,
    updatedAt: now,
  };
}

export async function startOAuthStack(options: OAuthStackOptions = {}): Promise<OAuthStack> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'oauth-test-'));
  const logs: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  });
  let oauth: OAuthModule | undefined;
  // The proxy listens first (port 0): the test server must know its callback URL.
  const proxy = await startProxy({
    port: 0,
    dataDir,
    logger,
    oauth: ({ store, publicUrl, logger: log }) => {
      oauth = createOAuthModule({ store, publicUrl, logger: log, ...options.module });
      return oauth;
    },
  });
  const upstream = await startTestServer({
    mode: 'oauth',
    port: 0,
    autoApprove: options.autoApprove ?? true,
    quiet: true,
    redirectUris: [`${proxy.url}/oauth/callback`],
    accessTokenTtl: options.accessTokenTtl,
    ...options.upstream,
  });
  const store = proxy.store;
  const workspace = seedWorkspace(
    upstream,
    typeof options.auth === 'function' ? options.auth(upstream) : options.auth,
  );
  if (store.workspaces.get(workspace.id) === undefined) store.workspaces.create(workspace);
  else store.workspaces.update(workspace);
  if (oauth === undefined) throw new Error('the proxy did not build the OAuth module');
  const module: OAuthModule = oauth;
  return {
    upstream,
    proxyUrl: proxy.url,
    mcpUrl: `${proxy.url}/mcp/${WORKSPACE_ID}`,
    store,
    oauth: module,
    dataDir,
    workspace,
    logs,
    async control(path, init = {}) {
      const response = await fetch(`${upstream.url}/__control${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${upstream.controlToken}`,
          'content-type': 'application/json',
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      if (!response.ok)
        throw new Error(`control ${path}: ${response.status} ${await response.text()}`);
      const text = await response.text();
      return text === '' ? undefined : JSON.parse(text);
    },
    async close() {
      await proxy.close();
      await upstream.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
