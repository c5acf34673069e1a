/**
 * MCP sessions on the endpoint: the SDK client over a session, the GET stream, DELETE, the table's
 * bounds, a session id shown by someone else, and stateless POSTs beside sessions.
 * Upstream: test server in bearer mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { Request, Response } from 'express';
import { accessKeyAuthorizer } from '../../src/mcp/access-key';
import type { ToolSet, Workspace } from '../../src/types';
import {
  connect,
  type RunningProxy,
  seedToolSet,
  startProxy,
  startTestServer,
  type TestServer,
  upstreamAuth,
  workspace,
} from './harness';

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

interface Caller {
  workspace: string;
  authorization?: string;
}

function headers(caller: Caller, sessionId?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    ...(caller.authorization ? { authorization: caller.authorization } : {}),
    ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
  };
}

function post(proxy: RunningProxy, caller: Caller, body: unknown, sessionId?: string) {
  return fetch(`${proxy.url}/mcp/${caller.workspace}`, {
    method: 'POST',
    headers: headers(caller, sessionId),
    body: JSON.stringify(body),
  });
}

/** initialize + notifications/initialized, as a client does; the session id the proxy issued. */
async function initialize(proxy: RunningProxy, caller: Caller): Promise<string> {
  const res = await post(proxy, caller, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    },
  });
  assert.equal(res.status, 200, await res.clone().text());
  const sessionId = res.headers.get('mcp-session-id') ?? '';
  assert.match(sessionId, SESSION_ID);
  await res.body?.cancel();
  const ack = await post(
    proxy,
    caller,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    sessionId,
  );
  assert.equal(ack.status, 202);
  return sessionId;
}

let nextId = 10;
/** tools/list over a session (or none): the HTTP status and the tool count when it worked. */
async function listTools(
  proxy: RunningProxy,
  caller: Caller,
  sessionId?: string,
): Promise<{ status: number; tools?: number; sessionHeader: string | null }> {
  const res = await post(
    proxy,
    caller,
    { jsonrpc: '2.0', id: nextId++, method: 'tools/list' },
    sessionId,
  );
  const body = (await res.json()) as { result?: { tools: unknown[] } };
  return {
    status: res.status,
    tools: body.result?.tools.length,
    sessionHeader: res.headers.get('mcp-session-id'),
  };
}

function text(result: CallToolResult): string {
  const first = result.content[0];
  assert.ok(first && first.type === 'text');
  return first.text;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), what);
}

describe('MCP sessions', () => {
  let upstream: TestServer;
  let toolSet: ToolSet;
  let proxy: RunningProxy;
  let auth: Workspace['auth'];
  const seedKey = 'mk_seed-key';
  const otherKey = 'mk_other-key';
  const seed: Caller = { workspace: 'seed', authorization: `Bearer ${seedKey}` };
  const other: Caller = { workspace: 'other', authorization: `Bearer ${otherKey}` };
  /** An OAuth-like workspace: each token stands for a grant. */
  const grants: Record<string, string> = {
    'Bearer tok-alice': 'g-alice',
    'Bearer tok-bob': 'g-bob',
  };
  const alice: Caller = { workspace: 'granted', authorization: 'Bearer tok-alice' };
  /** The workspaces as the store has them now: tests replace entries to change them. */
  const current = new Map<string, Workspace>();
  const bob: Caller = { workspace: 'granted', authorization: 'Bearer tok-bob' };

  before(async () => {
    upstream = await startTestServer({ mode: 'bearer', port: 0, quiet: true });
    toolSet = await seedToolSet(upstream);
    auth = upstreamAuth('bearer', upstream.apiSecret ?? '');
    const byKey = accessKeyAuthorizer();
    for (const ws of [
      workspace({ id: 'seed', auth, baseUrl: upstream.url, accessKey: seedKey }),
      workspace({ id: 'other', auth, baseUrl: upstream.url, accessKey: otherKey }),
      workspace({ id: 'granted', auth, baseUrl: upstream.url }),
    ]) {
      current.set(ws.id, ws);
    }
    proxy = await startProxy([...current.values()], toolSet, {
      getWorkspace: (id) => current.get(id),
      async authorize(req: Request, res: Response, ws: Workspace) {
        if (ws.id !== 'granted') return byKey(req, res, ws);
        const grantId = grants[req.headers.authorization ?? ''];
        if (grantId !== undefined) return { grantId };
        res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'invalid_token' });
        return undefined;
      },
    });
  });
  after(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  test('the SDK client gets a session and lists and calls tools over it', async () => {
    const before = proxy.endpoint.sessionCount;
    const client = await connect(proxy, 'seed', seedKey);
    const transport = client.transport as StreamableHTTPClientTransport;
    assert.match(transport.sessionId ?? '', SESSION_ID);
    assert.equal(proxy.endpoint.sessionCount, before + 1);

    assert.equal((await client.listTools()).tools.length, 5);
    const created = (await client.callTool({
      name: 'createItem',
      arguments: { body: { name: 'in-session' } },
    })) as CallToolResult;
    assert.equal(created.isError, undefined, text(created));
    assert.equal((JSON.parse(text(created)) as { name: string }).name, 'in-session');
    assert.equal(proxy.endpoint.sessionCount, before + 1, 'the calls used the same session');
    await client.close();
  });

  test('GET with the session id opens its SSE stream', async () => {
    const sessionId = await initialize(proxy, seed);
    const res = await fetch(`${proxy.url}/mcp/seed`, {
      headers: { ...headers(seed, sessionId), accept: 'text/event-stream' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(res.headers.get('mcp-session-id'), sessionId);
    // One stream per session.
    const second = await fetch(`${proxy.url}/mcp/seed`, {
      headers: { ...headers(seed, sessionId), accept: 'text/event-stream' },
    });
    assert.equal(second.status, 409);
    await second.body?.cancel();
    await res.body?.cancel();
  });

  test('DELETE ends the session: later requests with its id get 404', async () => {
    const client = await connect(proxy, 'seed', seedKey);
    const transport = client.transport as StreamableHTTPClientTransport;
    const sessionId = transport.sessionId ?? '';
    const before = proxy.endpoint.sessionCount;
    await transport.terminateSession();
    assert.equal(proxy.endpoint.sessionCount, before - 1);
    const after = await listTools(proxy, seed, sessionId);
    assert.equal(after.status, 404);
    const del = await fetch(`${proxy.url}/mcp/seed`, {
      method: 'DELETE',
      headers: headers(seed, sessionId),
    });
    assert.equal(del.status, 404);
    await client.close();
  });

  test('a session id shown by another principal, or on another workspace, is refused', async () => {
    const sessionId = await initialize(proxy, alice);
    assert.equal((await listTools(proxy, alice, sessionId)).status, 200);

    // Bob holds a valid token of the same workspace, but the session is Alice's grant.
    assert.equal((await listTools(proxy, bob, sessionId)).status, 404);
    const bobGet = await fetch(`${proxy.url}/mcp/granted`, {
      headers: { ...headers(bob, sessionId), accept: 'text/event-stream' },
    });
    assert.equal(bobGet.status, 404);
    await bobGet.body?.cancel();
    const bobDelete = await fetch(`${proxy.url}/mcp/granted`, {
      method: 'DELETE',
      headers: headers(bob, sessionId),
    });
    assert.equal(bobDelete.status, 404);
    const bobCall = await post(
      proxy,
      bob,
      {
        jsonrpc: '2.0',
        id: 99,
        method: 'tools/call',
        params: { name: 'listItems', arguments: {} },
      },
      sessionId,
    );
    assert.equal(bobCall.status, 404);
    assert.deepEqual(await bobCall.json(), {
      jsonrpc: '2.0',
      error: { code: -32001, message: 'Session not found' },
      id: null,
    });

    // Valid credentials of another workspace do not open this workspace's session either.
    assert.equal((await listTools(proxy, other, sessionId)).status, 404);
    // Without credentials: refused before the session is even looked at.
    assert.equal((await listTools(proxy, { workspace: 'granted' }, sessionId)).status, 401);

    const warned = proxy.logger.lines.filter((l) => /another principal/.test(l.msg));
    assert.ok(warned.length >= 4, 'the attempts are logged');
    // None of it ended or touched Alice's session.
    const still = await listTools(proxy, alice, sessionId);
    assert.equal(still.status, 200);
    assert.equal(still.tools, 5);
  });

  test('access-key sessions are bound to the key: another workspace key cannot use them', async () => {
    const sessionId = await initialize(proxy, seed);
    assert.equal((await listTools(proxy, seed, sessionId)).status, 200);
    assert.equal((await listTools(proxy, { ...other, workspace: 'seed' }, sessionId)).status, 401);
    assert.equal((await listTools(proxy, other, sessionId)).status, 404);
  });

  test('a POST without a session id that is not initialize is served statelessly', async () => {
    const before = proxy.endpoint.sessionCount;
    const res = await post(proxy, seed, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'listUsers', arguments: {} },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('mcp-session-id'), null);
    const message = (await res.json()) as { id: number; result: CallToolResult };
    assert.equal(message.id, 3);
    assert.equal(message.result.isError, undefined);
    const listed = await listTools(proxy, seed);
    assert.equal(listed.tools, 5);
    assert.equal(listed.sessionHeader, null);
    assert.equal(proxy.endpoint.sessionCount, before, 'no session was created');
  });

  test('a session sees the workspace as it is now: tools disabled later vanish from it', async () => {
    const client = await connect(proxy, 'other', otherKey);
    assert.equal((await client.listTools()).tools.length, 5);
    const before = current.get('other');
    assert.ok(before);
    current.set('other', { ...before, tools: { enabled: 'all', disabled: ['deleteItem'] } });
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.equal(names.length, 4);
      assert.ok(!names.includes('deleteItem'));
      await assert.rejects(client.callTool({ name: 'deleteItem', arguments: { id: 'x' } }), {
        code: -32602,
        message: /Tool deleteItem is disabled in this workspace/,
      });
    } finally {
      current.set('other', before);
    }
    assert.equal((await client.listTools()).tools.length, 5);
    await client.close();
  });

  test('two sessions of the same key never see each other’s responses', async () => {
    // Both SDK clients number their requests from 0, so the ids collide across sessions.
    const first = await connect(proxy, 'seed', seedKey);
    const second = await connect(proxy, 'seed', seedKey);
    const rounds = 25;
    const calls = (client: typeof first, who: string) =>
      Array.from({ length: rounds }, async (_, i) => {
        const name = `${who}-${i}`;
        const result = (await client.callTool({
          name: 'createItem',
          arguments: { body: { name } },
        })) as CallToolResult;
        return { sent: name, got: (JSON.parse(text(result)) as { name: string }).name };
      });
    const results = await Promise.all([...calls(first, 'first'), ...calls(second, 'second')]);
    assert.equal(results.length, 2 * rounds);
    for (const { sent, got } of results) assert.equal(got, sent);
    await first.close();
    await second.close();
  });
});

describe('MCP session table bounds', () => {
  let upstream: TestServer;
  let proxy: RunningProxy;
  const clock = { now: 1_000 };
  const key = 'mk_bounded';
  const caller: Caller = { workspace: 'seed', authorization: `Bearer ${key}` };

  before(async () => {
    upstream = await startTestServer({ mode: 'bearer', port: 0, quiet: true });
    const toolSet = await seedToolSet(upstream);
    const auth = upstreamAuth('bearer', upstream.apiSecret ?? '');
    proxy = await startProxy(
      [workspace({ id: 'seed', auth, baseUrl: upstream.url, accessKey: key })],
      toolSet,
      { sessions: { maxSessions: 2, idleTimeoutMs: 60_000, now: () => clock.now } },
    );
  });
  after(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  test('full, the least recently used session is evicted; idle ones expire', async () => {
    const a = await initialize(proxy, caller);
    clock.now += 1;
    const b = await initialize(proxy, caller);
    clock.now += 1;
    assert.equal((await listTools(proxy, caller, a)).status, 200, 'a is now the most recent');
    clock.now += 1;
    const c = await initialize(proxy, caller);
    assert.equal(proxy.endpoint.sessionCount, 2);
    assert.equal((await listTools(proxy, caller, b)).status, 404, 'b, the oldest idle, is gone');
    assert.equal((await listTools(proxy, caller, a)).status, 200);
    clock.now += 30_000;
    assert.equal((await listTools(proxy, caller, c)).status, 200);
    clock.now += 30_000;
    assert.equal((await listTools(proxy, caller, a)).status, 404, 'a idle for 60 s expired');
    assert.equal((await listTools(proxy, caller, c)).status, 200, 'c was used 30 s ago');
    assert.equal(proxy.endpoint.sessionCount, 1);
  });

  test('a session holding its SSE stream is kept: idle ones expire and are evicted first', async () => {
    clock.now += 120_000; // every earlier session is now idle past the timeout
    const streaming = await initialize(proxy, caller);
    const stream = await fetch(`${proxy.url}/mcp/seed`, {
      headers: { ...headers(caller, streaming), accept: 'text/event-stream' },
    });
    assert.equal(stream.status, 200);
    clock.now += 120_000;
    const quiet = await initialize(proxy, caller);
    clock.now += 1;
    const fresh = await initialize(proxy, caller);
    assert.equal(proxy.endpoint.sessionCount, 2);
    assert.equal((await listTools(proxy, caller, quiet)).status, 404, 'the idle one was evicted');
    assert.equal(
      (await listTools(proxy, caller, streaming)).status,
      200,
      'the older, streaming one stays',
    );
    assert.equal((await listTools(proxy, caller, fresh)).status, 200);
    await stream.body?.cancel();
  });

  test('close() ends every session and its open SSE stream', async () => {
    const sessionId = await initialize(proxy, caller);
    const res = await fetch(`${proxy.url}/mcp/seed`, {
      headers: { ...headers(caller, sessionId), accept: 'text/event-stream' },
    });
    assert.equal(res.status, 200);
    const reader = res.body?.getReader();
    assert.ok(reader);
    let ended = false;
    const draining = (async () => {
      for (;;) {
        const chunk = await reader.read().catch(() => ({ done: true }));
        if (chunk.done) break;
      }
      ended = true;
    })();
    await proxy.endpoint.close();
    assert.equal(proxy.endpoint.sessionCount, 0);
    await waitFor(() => ended, 'the SSE stream ended');
    await draining;
  });
});
