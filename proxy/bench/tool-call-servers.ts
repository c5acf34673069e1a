/**
 * Child processes of tool-call.bench.ts, so that the load generator, the proxy and the upstream
 * each have their own event loop. `upstream`: the test server in bearer mode. `proxy`: the MCP
 * router serving one workspace over that upstream (UPSTREAM_URL, UPSTREAM_SECRET). `relay`: a bare
 * HTTP relay to the same upstream, the floor of any proxy. `full`: the whole proxy from server.ts
 * with its SQLite store and the bearer fixture. Each prints
 * one JSON line with what the bench needs, then serves until killed.
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { request } from 'undici';
import { startTestServer } from '../../test-server/src/server';
import { createLogger } from '../src/log';
import { accessKeyAuthorizer } from '../src/mcp/access-key';
import { defaultAllowedHosts } from '../src/mcp/request-guard';
import { createMcpRouter } from '../src/mcp/router';
import { generateTools } from '../src/openapi/generate';
import { loadSpec } from '../src/openapi/load';
import { startProxy as startFullProxy } from '../src/server';
import type { Workspace } from '../src/types';
import { createUpstreamAgent } from '../src/upstream/execute';
import { staticCredentials } from '../src/upstream/static-credentials';

const ACCESS_KEY = 'mk_bench-access-key';
const silent = { debug() {}, warn() {}, error() {} };

async function upstream(): Promise<void> {
  const server = await startTestServer({ mode: 'bearer', port: 0, quiet: true });
  console.log(JSON.stringify({ url: server.url, apiSecret: server.apiSecret }));
}

async function proxy(): Promise<void> {
  const upstreamUrl = required('UPSTREAM_URL');
  const spec = await loadSpec({ kind: 'url', url: `${upstreamUrl}/openapi.json` });
  const toolSet = await generateTools(spec.document, { specHash: spec.hash, specUrl: spec.url });
  const workspace: Workspace = {
    id: 'bench',
    name: 'bench',
    spec: { kind: 'url', url: `${upstreamUrl}/openapi.json` },
    baseUrl: upstreamUrl,
    auth: { type: 'bearer', token: required('UPSTREAM_SECRET') },
    tools: { enabled: 'all', disabled: [] },
    public: false,
    accessKey: ACCESS_KEY,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  const credentials = staticCredentials(workspace.auth);
  app.use(
    '/mcp',
    createMcpRouter({
      getWorkspace: (id) => (id === workspace.id ? workspace : undefined),
      getToolSet: async () => toolSet,
      credentialsFor: () => credentials,
      authorize: accessKeyAuthorizer(),
      allowedHosts: defaultAllowedHosts(port),
      logger: silent,
    }),
  );
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/mcp/bench`, accessKey: ACCESS_KEY }));
}

/**
 * The floor any HTTP-to-HTTP proxy pays here: express receiving a request and relaying
 * GET /api/items through the same keep-alive undici Agent, with no MCP at all.
 */
async function relay(): Promise<void> {
  const target = `${required('UPSTREAM_URL')}/api/items`;
  const headers = { authorization: `Bearer ${required('UPSTREAM_SECRET')}` };
  const dispatcher = createUpstreamAgent();
  const app = express();
  app.post('/relay', async (_req, res) => {
    const upstreamResponse = await request(target, { headers, dispatcher });
    res
      .status(upstreamResponse.statusCode)
      .type('json')
      .send(await upstreamResponse.body.text());
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/relay` }));
}

/** The whole proxy as users start it (server.ts, SQLite store), from the bearer fixture. */
async function full(): Promise<void> {
  const running = await startFullProxy({
    config: join(__dirname, '..', '..', 'fixtures', 'workspaces', 'bearer.yaml'),
    env: {
      TEST_SERVER_URL: required('UPSTREAM_URL'),
      TEST_SERVER_API_SECRET: required('UPSTREAM_SECRET'),
    },
    port: 0,
    host: '127.0.0.1',
    dataDir: mkdtempSync(join(tmpdir(), 'proxy-bench-')),
    logger: createLogger({ level: 'silent' }),
    oauth: false,
  });
  const accessKey = running.generatedAccessKeys['test-bearer'];
  console.log(JSON.stringify({ url: `${running.url}/mcp/test-bearer`, accessKey }));
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const role = process.argv[2];
const roles: Record<string, () => Promise<void>> = { upstream, proxy, relay, full };
const main = role === undefined ? undefined : roles[role];
if (!main) {
  console.error('usage: tool-call-servers.ts upstream|proxy|relay|full');
  process.exit(2);
}
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
