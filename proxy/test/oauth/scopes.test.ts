/**
 * Scope challenges on tool calls: a proxy token narrower than a tool's operation needs gets 403
 * insufficient_scope naming the missing scope, and the upstream never sees the call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type OAuthStack, startOAuthStack } from './harness';
import { proxyToken } from './proxy-token';

interface Counters {
  endpoints: Record<string, number>;
}

describe('OAuth scopes on tool calls', () => {
  let stack: OAuthStack;
  let readOnly: string;
  before(async () => {
    stack = await startOAuthStack({ autoApprove: true });
    readOnly = await proxyToken(stack, 'items:read');
  });
  after(async () => {
    await stack?.close();
  });

  const post = async (token: string, body: unknown) => {
    const response = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      challenge: response.headers.get('www-authenticate'),
      body: JSON.parse(text) as Record<string, unknown>,
    };
  };
  const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args },
  });
  const upstreamCalls = async (operationId: string) =>
    ((await stack.control('/counters')) as Counters).endpoints[`api:${operationId}`] ?? 0;

  test('a token with items:read lists tools and calls listItems', async () => {
    const listed = await post(readOnly, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(listed.status, 200);
    const tools = (listed.body.result as { tools: Array<{ name: string }> }).tools;
    assert.ok(
      tools.some((t) => t.name === 'createItem'),
      'tools/list is not filtered by scope',
    );
    const result = await post(readOnly, call(2, 'listItems'));
    assert.equal(result.status, 200);
    assert.equal((result.body.result as { isError?: boolean }).isError, undefined);
  });

  test('createItem without items:write: 403 insufficient_scope, nothing sent upstream', async () => {
    const before = await upstreamCalls('createItem');
    const refused = await post(readOnly, call(3, 'createItem', { body: { name: 'not allowed' } }));
    assert.equal(refused.status, 403);
    assert.equal(
      refused.challenge,
      `Bearer error="insufficient_scope", scope="items:write", resource_metadata="${stack.proxyUrl}/.well-known/oauth-protected-resource/mcp/test-oauth"`,
    );
    assert.equal(refused.body.error, 'insufficient_scope');
    assert.equal(await upstreamCalls('createItem'), before, 'the upstream saw no createItem');
  });

  test('a batch with one call lacking its scope is refused as a whole', async () => {
    const before = await upstreamCalls('listItems');
    const refused = await post(readOnly, [
      call(4, 'listItems'),
      call(5, 'createItem', { body: { name: 'x' } }),
    ]);
    assert.equal(refused.status, 403);
    assert.match(refused.challenge ?? '', /scope="items:write"/);
    assert.equal(await upstreamCalls('listItems'), before);
  });

  test('a token with items:write calls createItem', async () => {
    const writer = await proxyToken(stack, 'items:read items:write');
    const before = await upstreamCalls('createItem');
    const created = await post(writer, call(6, 'createItem', { body: { name: 'allowed' } }));
    assert.equal(created.status, 200);
    assert.equal((created.body.result as { isError?: boolean }).isError, undefined);
    assert.equal(await upstreamCalls('createItem'), before + 1);
  });
});
