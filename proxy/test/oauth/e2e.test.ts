import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type OAuthStack, startOAuthStack } from './harness';
import { connectWithOAuth, finishAuthorization, HeadlessOAuthProvider } from './mcp-client';

interface Counters {
  grants: Record<string, { requests: number; ok: number; errors: number }>;
  endpoints: Record<string, number>;
}

const textOf = (result: Awaited<ReturnType<Client['callTool']>>): string => {
  const content = result.content as Array<{ type: string; text?: string }>;
  return content.map((c) => c.text ?? '').join('');
};

async function callAllFive(client: Client): Promise<void> {
  const created = await client.callTool({
    name: 'createItem',
    arguments: { body: { name: 'pen', tags: ['oauth'] } },
  });
  assert.notEqual(created.isError, true, textOf(created));
  const item = JSON.parse(textOf(created)) as { id: string | number; name: string };
  assert.equal(item.name, 'pen');
  for (const [name, args] of [
    ['listItems', {}],
    ['getItem', { id: String(item.id) }],
    ['listUsers', {}],
    ['deleteItem', { id: String(item.id) }],
  ] as const) {
    const result = await client.callTool({ name, arguments: args });
    assert.notEqual(result.isError, true, `${name}: ${textOf(result)}`);
  }
}

describe('MCP SDK client through the proxy (Custom OAuth, the seed workspace)', () => {
  let stack: OAuthStack;
  before(async () => {
    stack = await startOAuthStack({ autoApprove: false });
  });
  after(async () => {
    await stack?.close();
  });

  test('logs in, consents once, then lists and calls all five tools', async () => {
    const provider = new HeadlessOAuthProvider({
      login: { username: 'alice', password: 'alice-pass' },
    });
    const client = await connectWithOAuth(stack.mcpUrl, provider);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'createItem',
      'deleteItem',
      'getItem',
      'listItems',
      'listUsers',
    ]);
    await callAllFive(client);
    await client.close();
    assert.equal(provider.authorizations, 1);
    const consent = provider.agent.pages.find((p) => p.html.includes('id="client-name"'));
    assert.ok(consent, 'the proxy consent page was shown');
    assert.match(consent.html, /Headless test client/);
    assert.match(consent.html, /items:write/);
    assert.equal(consent.headers.get('x-frame-options'), 'DENY');
    assert.match(consent.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  });
});

describe('the user refuses at the upstream', () => {
  let stack: OAuthStack;
  before(async () => {
    stack = await startOAuthStack({ autoApprove: false });
  });
  after(async () => {
    await stack?.close();
  });

  test('the MCP client gets access_denied with its state, and nothing is stored', async () => {
    const provider = new HeadlessOAuthProvider({
      login: { username: 'bob', password: 'bob-pass' },
      upstreamConsent: 'deny',
    });
    await assert.rejects(connectWithOAuth(stack.mcpUrl, provider), /without a code/);
    assert.equal(provider.lastRedirect?.searchParams.get('error'), 'access_denied');
    assert.equal(provider.lastRedirect?.searchParams.get('state'), provider.lastState);
    const grants = stack.store.db.prepare('SELECT COUNT(*) FROM oauth_grants').pluck().get();
    assert.equal(grants, 0);
  });
});

describe('upstream tokens expiring after 2 s', () => {
  let stack: OAuthStack;
  before(async () => {
    stack = await startOAuthStack({ autoApprove: true, accessTokenTtl: 2 });
  });
  after(async () => {
    await stack?.close();
  });

  test('calls after expiry succeed with exactly one upstream refresh for 20 concurrent calls', async () => {
    const provider = new HeadlessOAuthProvider();
    const client = await connectWithOAuth(stack.mcpUrl, provider);
    const first = await client.callTool({ name: 'listItems', arguments: {} });
    assert.notEqual(first.isError, true, textOf(first));
    const grants = stack.store.db.prepare('SELECT id FROM oauth_grants').pluck().all() as string[];
    assert.equal(grants.length, 1);
    const grant = stack.oauth.repo.getGrant(grants[0] as string);
    const expiresAt = grant?.upstream?.expiresAt ?? 0;
    // Wait (bounded) until the upstream token is really past its expiry.
    while (Date.now() < expiresAt + 100) await new Promise((r) => setTimeout(r, 50));
    const before = (await stack.control('/counters')) as Counters;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => client.callTool({ name: 'listItems', arguments: {} })),
    );
    for (const result of results) assert.notEqual(result.isError, true, textOf(result));
    const counters = (await stack.control('/counters')) as Counters;
    const refreshes =
      (counters.grants.refresh_token?.requests ?? 0) - (before.grants.refresh_token?.requests ?? 0);
    assert.equal(refreshes, 1);
    assert.equal(provider.authorizations, 1, 'no second authorization');
    await client.close();
  });

  test('upstream invalid_grant on refresh: the next MCP request gets 401, one re-authorization, no loop', async () => {
    const provider = new HeadlessOAuthProvider();
    const client = await connectWithOAuth(stack.mcpUrl, provider);
    const grantIds = () =>
      stack.store.db
        .prepare('SELECT id FROM oauth_grants WHERE revoked_at IS NULL')
        .pluck()
        .all() as string[];
    const live = grantIds().filter(
      (id) => stack.oauth.repo.getGrant(id)?.clientId === provider.client?.client_id,
    );
    assert.equal(live.length, 1);
    const grant = stack.oauth.repo.getGrant(live[0] as string);
    await stack.control('/faults', {
      method: 'POST',
      body: {
        target: 'token',
        grant_type: 'refresh_token',
        kind: 'oauth_error',
        error: 'invalid_grant',
        times: 0,
      },
    });
    while (Date.now() < (grant?.upstream?.expiresAt ?? 0) + 100) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // The call itself is answered 401: the SDK client's proxy refresh token is refused too
    // (the grant is gone), so it sends the user to authorize again, once.
    await assert.rejects(
      client.callTool({ name: 'listItems', arguments: {} }),
      (error: unknown) => error instanceof UnauthorizedError,
    );
    assert.notEqual(stack.oauth.repo.getGrant(live[0] as string)?.revokedAt, undefined);
    assert.equal(provider.authorizations, 2);
    await stack.control('/faults', { method: 'DELETE' });
    await client.close();
    await finishAuthorization(stack.mcpUrl, provider);
    const again = await connectWithOAuth(stack.mcpUrl, provider);
    const ok = await again.callTool({ name: 'listItems', arguments: {} });
    assert.notEqual(ok.isError, true, textOf(ok));
    assert.equal(provider.authorizations, 2, 'no loop: one re-authorization');
    await again.close();
  });
});
