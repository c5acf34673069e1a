/**
 * Test harness for the MCP endpoint: a real test server as the upstream, the proxy's MCP router in
 * an express app on a free loopback port, and MCP SDK clients pointed at it.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import express from 'express';
import { Agent, type Dispatcher } from 'undici';
import { startTestServer } from '../../../test-server/src/server';
import { accessKeyAuthorizer } from '../../src/mcp/access-key';
import { defaultAllowedHosts } from '../../src/mcp/request-guard';
import { createMcpEndpoint, type McpEndpoint, type McpRouterDeps } from '../../src/mcp/router';
import type { McpLogger } from '../../src/mcp/tool-server';
import { generateTools } from '../../src/openapi/generate';
import { loadSpec } from '../../src/openapi/load';
import type { ToolSet, UpstreamAuth, Workspace } from '../../src/types';
import { staticCredentials } from '../../src/upstream/static-credentials';

export type StaticMode = 'bearer' | 'apikey' | 'headers' | 'none';
export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

export const SEED_TOOLS = ['createItem', 'deleteItem', 'getItem', 'listItems', 'listUsers'];

/** The upstream auth a workspace needs for a test-server mode. */
export function upstreamAuth(mode: StaticMode, apiSecret: string): UpstreamAuth {
  switch (mode) {
    case 'bearer':
      return { type: 'bearer', token: apiSecret };
    case 'apikey':
      return { type: 'apiKey', value: apiSecret };
    case 'headers':
      return {
        type: 'headers',
        headers: { 'X-Tenant-Id': 'test-tenant', 'X-Api-Secret': apiSecret },
      };
    case 'none':
      return { type: 'none' };
  }
}

export function workspace(
  overrides: Partial<Workspace> & Pick<Workspace, 'id' | 'auth'>,
): Workspace {
  return {
    name: overrides.id,
    spec: { kind: 'url', url: 'http://unused.test/openapi.json' },
    tools: { enabled: 'all', disabled: [] },
    public: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** Loads and compiles the test server's own OpenAPI document. */
export async function seedToolSet(server: TestServer): Promise<ToolSet> {
  const spec = await loadSpec({ kind: 'url', url: `${server.url}/openapi.json` });
  return generateTools(spec.document, { specHash: spec.hash, specUrl: spec.url });
}

export interface LogLine {
  level: 'debug' | 'warn' | 'error';
  obj: object;
  msg: string;
}

/** A logger that keeps what was written, for assertions. */
export function memoryLogger(): McpLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

/** A keep-alive Agent that keeps the headers of every request the proxy sends upstream. */
export function recordingDispatcher(): {
  dispatcher: Dispatcher;
  sent: Array<Record<string, string>>;
} {
  const sent: Array<Record<string, string>> = [];
  const dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
    sent.push({ ...(opts.headers as Record<string, string> | undefined) });
    return dispatch(opts, handler);
  });
  return { dispatcher, sent };
}

export interface RunningProxy {
  url: string;
  port: number;
  logger: ReturnType<typeof memoryLogger>;
  /** Headers of every upstream request, as the proxy sent them. */
  sent: Array<Record<string, string>>;
  endpoint: McpEndpoint;
  close(): Promise<void>;
}

/** The MCP router on a free loopback port, serving the given workspaces from one ToolSet. */
export async function startProxy(
  workspaces: Workspace[],
  toolSet: ToolSet,
  overrides: Partial<McpRouterDeps> = {},
): Promise<RunningProxy> {
  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  const logger = memoryLogger();
  const recorder = recordingDispatcher();
  const byId = new Map(workspaces.map((w) => [w.id, w]));
  const endpoint = createMcpEndpoint({
    getWorkspace: (id) => byId.get(id),
    getToolSet: async () => toolSet,
    credentialsFor: (ws) => staticCredentials(ws.auth),
    authorize: accessKeyAuthorizer(),
    allowedHosts: defaultAllowedHosts(port),
    logger,
    ...overrides,
    execute: { dispatcher: recorder.dispatcher, ...overrides.execute },
  });
  app.use('/mcp', endpoint.router);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    logger,
    sent: recorder.sent,
    endpoint,
    close: async () => {
      await endpoint.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** An MCP SDK client connected to a workspace, presenting `accessKey` when given. */
export async function connect(
  proxy: RunningProxy,
  workspaceId: string,
  accessKey?: string,
): Promise<Client> {
  const client = new Client({ name: 'proxy-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp/${workspaceId}`), {
    requestInit: accessKey ? { headers: { Authorization: `Bearer ${accessKey}` } } : {},
  });
  await client.connect(transport);
  return client;
}

/** The test server's control API. */
export function control(server: TestServer) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${server.url}/__control${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.controlToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status}`);
    return (await res.json()) as T;
  }
  return {
    counters: () => call<{ endpoints: Record<string, number> }>('GET', '/counters'),
    events: (since = 0) =>
      call<{ events: Array<{ seq: number; kind: string; path: string; token_sha256?: string }> }>(
        'GET',
        `/events?since=${since}`,
      ),
    reset: () => call<unknown>('POST', '/reset'),
  };
}

/** Sum of the demo API's request counters. */
export function apiCalls(endpoints: Record<string, number>): number {
  return Object.entries(endpoints)
    .filter(([name]) => name.startsWith('api:'))
    .reduce((sum, [, n]) => sum + n, 0);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export { startTestServer };
