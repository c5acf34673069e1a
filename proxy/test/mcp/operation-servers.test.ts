/**
 * An operation with its own `servers` is called there, not on the document's servers[0]; a
 * workspace's baseUrl override moves only the operations without a server of their own.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { generateTools } from '../../src/openapi/generate';
import { connect, type RunningProxy, startProxy, workspace } from './harness';

interface Upstream {
  url: string;
  /** `METHOD path` of every request it received. */
  received: string[];
  server: Server;
}

async function startUpstream(name: string): Promise<Upstream> {
  const received: string[] = [];
  const server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ server: name, path: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, server };
}

function text(result: CallToolResult): string {
  const first = result.content[0];
  assert.ok(first && first.type === 'text', 'first content is text');
  return first.text;
}

describe('MCP endpoint: operation-level servers', () => {
  let api: Upstream;
  let uploads: Upstream;
  let staging: Upstream;
  let proxy: RunningProxy;
  const clients: Client[] = [];

  before(async () => {
    [api, uploads, staging] = await Promise.all([
      startUpstream('api'),
      startUpstream('uploads'),
      startUpstream('staging'),
    ]);
    const toolSet = await generateTools({
      openapi: '3.1.0',
      info: { title: 'Two hosts', version: '1' },
      servers: [{ url: api.url }],
      paths: {
        '/ping': {
          get: { operationId: 'ping', responses: { '200': { description: 'ok' } } },
        },
        '/assets': {
          post: {
            operationId: 'uploadAsset',
            servers: [
              { url: `${uploads.url}/{version}`, variables: { version: { default: 'v2' } } },
            ],
            responses: { '200': { description: 'ok' } },
          },
        },
      },
    });
    proxy = await startProxy(
      [
        workspace({ id: 'direct', auth: { type: 'none' }, accessKey: 'mk_direct' }),
        workspace({
          id: 'moved',
          auth: { type: 'none' },
          accessKey: 'mk_moved',
          baseUrl: staging.url,
        }),
      ],
      toolSet,
    );
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await proxy?.close();
    for (const upstream of [api, uploads, staging]) {
      await new Promise<void>((resolve) => upstream?.server.close(() => resolve()));
    }
  });

  test("the operation's own server is called; the others go to the document's server", async () => {
    const client = await connect(proxy, 'direct', 'mk_direct');
    clients.push(client);
    const uploaded = (await client.callTool({
      name: 'uploadAsset',
      arguments: {},
    })) as CallToolResult;
    assert.deepEqual(JSON.parse(text(uploaded)), { server: 'uploads', path: '/v2/assets' });
    const pinged = (await client.callTool({ name: 'ping', arguments: {} })) as CallToolResult;
    assert.deepEqual(JSON.parse(text(pinged)), { server: 'api', path: '/ping' });
    assert.deepEqual(uploads.received, ['POST /v2/assets']);
    assert.deepEqual(api.received, ['GET /ping']);
  });

  test("the workspace's baseUrl override moves only operations without their own server", async () => {
    const client = await connect(proxy, 'moved', 'mk_moved');
    clients.push(client);
    const pinged = (await client.callTool({ name: 'ping', arguments: {} })) as CallToolResult;
    assert.deepEqual(JSON.parse(text(pinged)), { server: 'staging', path: '/ping' });
    const uploaded = (await client.callTool({
      name: 'uploadAsset',
      arguments: {},
    })) as CallToolResult;
    assert.deepEqual(JSON.parse(text(uploaded)), { server: 'uploads', path: '/v2/assets' });
  });
});
