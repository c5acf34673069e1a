/**
 * Scope challenges on tool calls: a proxy token narrower than a tool's operation needs gets 403
 * insufficient_scope naming the missing scope, and the upstream never sees the call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { type OAuthStack, startOAuthStack } from './harness';
import { UserAgent } from './user-agent';

const CLIENT_REDIRECT = 'http://127.0.0.1:43118/callback';

interface Counters {
  endpoints: Record<string, number>;
}

/** A proxy access token for `scope`, through registration, /authorize (consent) and /token. */
async function proxyToken(stack: OAuthStack, scope: string): Promise<string> {
  const registered = await fetch(`${stack.proxyUrl}/oauth/test-oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Scope test client',
      redirect_uris: [CLIENT_REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  const clientId = ((await registered.json()) as { client_id: string }).client_id;
  const verifier = oauth.generateRandomCodeVerifier();
  const url = new URL(`${stack.proxyUrl}/oauth/test-oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'client-state',
    resource: stack.mcpUrl,
    scope,
  }).toString();
  const back = await new UserAgent().run(url, (u) => u.href.startsWith(CLIENT_REDIRECT));
  const response = await fetch(`${stack.proxyUrl}/oauth/test-oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code: back.searchParams.get('code') ?? '',
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
      resource: stack.mcpUrl,
    }).toString(),
  });
  const tokens = (await response.json()) as { access_token: string; scope: string };
  assert.equal(response.status, 200);
  assert.equal(tokens.scope, scope);
  return tokens.access_token;
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
