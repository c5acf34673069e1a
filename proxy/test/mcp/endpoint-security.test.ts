/**
 * The MCP endpoint's guards and isolation: access keys, Host/Origin, disabled tools, stateless
 * methods without a session, upstream failures, and concurrent clients kept apart. Upstream: test server in bearer mode.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type CallToolResult, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import {
  apiCalls,
  connect,
  control,
  type RunningProxy,
  seedToolSet,
  startProxy,
  startTestServer,
  type TestServer,
  upstreamAuth,
  workspace,
} from './harness';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw HTTP, because fetch() cannot set Host. */
function raw(
  proxy: RunningProxy,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: proxy.port, method, path, headers },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          data += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

function initialize(protocolVersion: string) {
  return {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  };
}

function text(result: CallToolResult): string {
  const first = result.content[0];
  assert.ok(first && first.type === 'text');
  return first.text;
}

describe('MCP endpoint guards and isolation', () => {
  let upstream: TestServer;
  let proxy: RunningProxy;
  let seed: Client;
  let limited: Client;
  const seedKey = 'mk_seed-key';
  const limitedKey = 'mk_limited-key';

  before(async () => {
    upstream = await startTestServer({ mode: 'bearer', port: 0, quiet: true });
    const toolSet = await seedToolSet(upstream);
    const auth = upstreamAuth('bearer', upstream.apiSecret ?? '');
    proxy = await startProxy(
      [
        workspace({ id: 'seed', auth, baseUrl: upstream.url, accessKey: seedKey }),
        workspace({
          id: 'limited',
          auth,
          baseUrl: upstream.url,
          accessKey: limitedKey,
          tools: {
            enabled: ['listItems', 'getItem', 'createItem', 'deleteItem'],
            disabled: ['deleteItem'],
          },
        }),
        workspace({ id: 'open', auth, baseUrl: upstream.url, public: true }),
      ],
      toolSet,
    );
    seed = await connect(proxy, 'seed', seedKey);
    limited = await connect(proxy, 'limited', limitedKey);
  });
  after(async () => {
    await seed?.close();
    await limited?.close();
    await proxy?.close();
    await upstream?.close();
  });

  const host = () => `127.0.0.1:${proxy.port}`;

  test('missing or wrong access key: 401 with a Bearer challenge; the SDK client cannot connect', async () => {
    for (const authorization of [undefined, 'Bearer mk_wrong', `Bearer ${limitedKey}`]) {
      const res = await raw(
        proxy,
        'POST',
        '/mcp/seed',
        { ...MCP_HEADERS, host: host(), ...(authorization ? { authorization } : {}) },
        initialize(LATEST_PROTOCOL_VERSION),
      );
      assert.equal(res.status, 401, String(authorization));
      assert.match(String(res.headers['www-authenticate']), /^Bearer realm="mcp-proxy"/);
    }
    await assert.rejects(connect(proxy, 'seed'));
    await assert.rejects(connect(proxy, 'seed', 'mk_wrong'));
  });

  test('a public workspace needs no key', async () => {
    const client = await connect(proxy, 'open');
    assert.equal((await client.listTools()).tools.length, 5);
    await client.close();
  });

  test('a foreign Host or Origin: 403 before anything else', async () => {
    const body = initialize(LATEST_PROTOCOL_VERSION);
    const auth = { authorization: `Bearer ${seedKey}` };
    const badHost = await raw(
      proxy,
      'POST',
      '/mcp/seed',
      { ...MCP_HEADERS, ...auth, host: 'evil.example' },
      body,
    );
    assert.equal(badHost.status, 403);
    assert.match(badHost.body, /Host not allowed/);
    const badOrigin = await raw(
      proxy,
      'POST',
      '/mcp/seed',
      { ...MCP_HEADERS, ...auth, host: host(), origin: 'http://evil.example' },
      body,
    );
    assert.equal(badOrigin.status, 403);
    assert.match(badOrigin.body, /Origin not allowed/);
    const goodOrigin = await raw(
      proxy,
      'POST',
      '/mcp/seed',
      { ...MCP_HEADERS, ...auth, host: host(), origin: `http://${host()}` },
      body,
    );
    assert.equal(goodOrigin.status, 200);
  });

  test('negotiates the newest protocol version the SDK knows, and older ones on request', async () => {
    const auth = { authorization: `Bearer ${seedKey}`, host: host() };
    for (const version of [LATEST_PROTOCOL_VERSION, '2025-03-26']) {
      const res = await raw(
        proxy,
        'POST',
        '/mcp/seed',
        { ...MCP_HEADERS, ...auth },
        initialize(version),
      );
      assert.equal(res.status, 200);
      const message = JSON.parse(res.body) as { result: { protocolVersion: string } };
      assert.equal(message.result.protocolVersion, version);
      assert.match(String(res.headers['mcp-session-id']), /^[A-Za-z0-9_-]{22}$/, 'a session');
    }
  });

  test('without a session id, GET and DELETE answer 405 with Allow: POST', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await raw(proxy, method, '/mcp/seed', {
        accept: 'text/event-stream',
        authorization: `Bearer ${seedKey}`,
        host: host(),
      });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'POST');
    }
    const put = await raw(proxy, 'PUT', '/mcp/seed', {
      authorization: `Bearer ${seedKey}`,
      host: host(),
    });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, POST, DELETE');
  });

  test('malformed JSON: 400 Parse error; a non-JSON body: 415', async () => {
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${seedKey}`, host: host() };
    const res = await new Promise<RawResponse>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/mcp/seed', headers },
        (r) => {
          let body = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => {
            body += c;
          });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
        },
      );
      req.on('error', reject);
      req.end('{"jsonrpc":"2.0",');
    });
    assert.equal(res.status, 400);
    assert.equal((JSON.parse(res.body) as { error: { code: number } }).error.code, -32700);
    const text = await raw(
      proxy,
      'POST',
      '/mcp/seed',
      { ...headers, 'content-type': 'text/plain' },
      initialize(LATEST_PROTOCOL_VERSION),
    );
    assert.equal(text.status, 415);
  });

  test('an unknown workspace: 404', async () => {
    const res = await raw(
      proxy,
      'POST',
      '/mcp/missing',
      { ...MCP_HEADERS, host: host() },
      initialize(LATEST_PROTOCOL_VERSION),
    );
    assert.equal(res.status, 404);
  });

  test('a disabled tool is absent from tools/list and calling it, or an unknown tool, is an MCP error', async () => {
    const names = (await limited.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['createItem', 'getItem', 'listItems']);
    const api = control(upstream);
    const before = apiCalls((await api.counters()).endpoints);
    await assert.rejects(limited.callTool({ name: 'deleteItem', arguments: { id: 'x' } }), {
      code: -32602,
      message: /Tool deleteItem is disabled in this workspace/,
    });
    await assert.rejects(limited.callTool({ name: 'listUsers', arguments: {} }), {
      code: -32602,
      message: /Tool listUsers is disabled/,
    });
    await assert.rejects(seed.callTool({ name: 'noSuchTool', arguments: {} }), {
      code: -32602,
      message: /Tool noSuchTool not found/,
    });
    assert.equal(apiCalls((await api.counters()).endpoints), before);
  });

  test('upstream 5xx: isError with the status and an excerpt', async () => {
    const api = control(upstream);
    await fetch(`${upstream.url}/__control/faults`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${upstream.controlToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ target: 'api', path: '/api/users', kind: 'status', status: 503 }),
    });
    const result = (await seed.callTool({ name: 'listUsers', arguments: {} })) as CallToolResult;
    assert.equal(result.isError, true);
    assert.match(text(result), /^Upstream answered 503 Service Unavailable/);
    await api.reset();
  });

  test('a slow upstream: isError naming the timeout; an unreachable one: isError too', async () => {
    const toolSet = await seedToolSet(upstream);
    const auth = upstreamAuth('bearer', upstream.apiSecret ?? '');
    const impatient = await startProxy(
      [
        workspace({ id: 'slow', auth, baseUrl: upstream.url, public: true }),
        workspace({ id: 'nowhere', auth, baseUrl: 'http://127.0.0.1:9', public: true }),
      ],
      toolSet,
      { execute: { timeoutMs: 300 } },
    );
    await fetch(`${upstream.url}/__control/faults`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${upstream.controlToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ target: 'api', path: '/api/users', kind: 'delay', delay_ms: 1_500 }),
    });
    const slowClient = await connect(impatient, 'slow');
    const slow = (await slowClient.callTool({
      name: 'listUsers',
      arguments: {},
    })) as CallToolResult;
    assert.equal(slow.isError, true);
    assert.equal(
      text(slow),
      'Upstream call failed (UPSTREAM_TIMEOUT): upstream did not answer within 300 ms',
    );
    await control(upstream).reset();

    const nowhere = await connect(impatient, 'nowhere');
    const down = (await nowhere.callTool({ name: 'listUsers', arguments: {} })) as CallToolResult;
    assert.equal(down.isError, true);
    assert.match(text(down), /^Upstream call failed \(UPSTREAM_UNREACHABLE\)/);
    await slowClient.close();
    await nowhere.close();
    await impatient.close();
  });

  test('a client that hangs up mid-call cancels the upstream request', async () => {
    await fetch(`${upstream.url}/__control/faults`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${upstream.controlToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ target: 'api', path: '/api/users', kind: 'delay', delay_ms: 3_000 }),
    });
    const sentBefore = proxy.sent.length;
    const req = httpRequest({
      host: '127.0.0.1',
      port: proxy.port,
      method: 'POST',
      path: '/mcp/seed',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${seedKey}`, host: host() },
    });
    req.on('error', () => {});
    req.end(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'listUsers', arguments: {} },
      }),
    );
    for (let i = 0; i < 200 && proxy.sent.length === sentBefore; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(proxy.sent.length, sentBefore + 1, 'the call went upstream');
    const started = Date.now();
    req.destroy();
    const aborted = () =>
      proxy.logger.lines.find(
        (l) => l.level === 'warn' && (l.obj as { code?: string }).code === 'UPSTREAM_ABORTED',
      );
    for (let i = 0; i < 200 && !aborted(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(aborted(), 'the upstream call was aborted');
    assert.ok(Date.now() - started < 1_500, 'well before the upstream would have answered');
    await control(upstream).reset();
  });

  test('proxy faults are logged and answered as internal errors, never with their reason', async () => {
    const toolSet = await seedToolSet(upstream);
    const auth = upstreamAuth('bearer', upstream.apiSecret ?? '');
    const ws = workspace({ id: 'fragile', auth, baseUrl: upstream.url, public: true });
    const fragile = await startProxy([ws], toolSet, {
      getWorkspace: (id) => {
        if (id === 'store-down') throw new Error('database is locked at /secret/path');
        return id === ws.id ? ws : undefined;
      },
      credentialsFor: () => {
        throw new Error('no grant for key k-123');
      },
    });
    const client = await connect(fragile, 'fragile');
    assert.equal((await client.listTools()).tools.length, 5, 'tools/list needs no credentials');
    await assert.rejects(client.callTool({ name: 'listUsers', arguments: {} }), (error: Error) => {
      assert.equal((error as Error & { code?: number }).code, -32603);
      assert.doesNotMatch(error.message, /k-123/);
      return true;
    });
    const down = await raw(
      fragile,
      'POST',
      '/mcp/store-down',
      { ...MCP_HEADERS, host: `127.0.0.1:${fragile.port}` },
      initialize(LATEST_PROTOCOL_VERSION),
    );
    assert.equal(down.status, 500);
    assert.deepEqual(JSON.parse(down.body), {
      jsonrpc: '2.0',
      error: { code: -32603, message: 'Internal error' },
      id: null,
    });
    const errors = fragile.logger.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 2);
    await client.close();
    await fragile.close();
  });

  test('two concurrent clients never see each other’s responses', async () => {
    const rounds = 25;
    const calls = (client: Client, who: string) =>
      Array.from({ length: rounds }, async (_, i) => {
        const name = `${who}-${i}`;
        const result = (await client.callTool({
          name: 'createItem',
          arguments: { body: { name } },
        })) as CallToolResult;
        return { sent: name, got: (JSON.parse(text(result)) as { name: string }).name };
      });
    const lists = [seed.listTools(), limited.listTools()];
    const results = await Promise.all([...calls(seed, 'seed'), ...calls(limited, 'limited')]);
    for (const { sent, got } of results) assert.equal(got, sent);
    const [seedTools, limitedTools] = await Promise.all(lists);
    assert.equal(seedTools?.tools.length, 5);
    assert.equal(limitedTools?.tools.length, 3);
  });
});
