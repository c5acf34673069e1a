/**
 * The stack the OAuth tests run against: the test server (oauth mode, port 0) as the upstream,
 * and a proxy (store in a temp dir, the OAuth module, the MCP router) with the seed's workspace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import express from 'express';
import { type RunningTestServer, startTestServer } from '../../../test-server/src/server';
import { createLogger } from '../../src/log';
import { createMcpRouter, defaultAllowedHosts } from '../../src/mcp';
import { createOAuthModule, type OAuthModule, type OAuthModuleOptions } from '../../src/oauth';
import { openStore, type ProxyStore } from '../../src/store';
import type { OAuth2UpstreamAuth, Workspace } from '../../src/types';
import { WorkspaceToolSets } from '../../src/workspaces/tool-sets';

export const WORKSPACE_ID = 'test-oauth';

export interface OAuthStackOptions {
  autoApprove?: boolean;
  /** Overrides of the seed's Custom OAuth settings. */
  auth?: Partial<OAuth2UpstreamAuth>;
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
  const http: Server = createServer();
  await new Promise<void>((resolve) => http.listen(0, resolve));
  const port = (http.address() as AddressInfo).port;
  const proxyUrl = `http://localhost:${port}`;
  const upstream = await startTestServer({
    mode: 'oauth',
    port: 0,
    autoApprove: options.autoApprove ?? true,
    quiet: true,
    redirectUris: [`${proxyUrl}/oauth/callback`],
    accessTokenTtl: options.accessTokenTtl,
  });
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'oauth-test-'));
  const store = openStore({ dataDir });
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
  const workspace = seedWorkspace(upstream, options.auth);
  if (store.workspaces.get(workspace.id) === undefined) store.workspaces.create(workspace);
  else store.workspaces.update(workspace);
  const oauth = createOAuthModule({ store, publicUrl: proxyUrl, logger, ...options.module });
  const toolSets = new WorkspaceToolSets();
  const app = express();
  app.use(oauth.router);
  app.use(
    '/mcp',
    createMcpRouter({
      getWorkspace: (id) => store.workspaces.get(id),
      getToolSet: (ws) => toolSets.get(ws),
      credentialsFor: (ws) => oauth.credentialsFor(ws),
      authorize: (req, res, ws) => oauth.authorize(req, res, ws),
      allowedHosts: defaultAllowedHosts(port),
      logger,
    }),
  );
  http.on('request', app);
  return {
    upstream,
    proxyUrl,
    mcpUrl: `${proxyUrl}/mcp/${WORKSPACE_ID}`,
    store,
    oauth,
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
      oauth.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await upstream.close();
      store.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
