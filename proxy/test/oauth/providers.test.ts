import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type OAuthStack, startOAuthStack } from './harness';
import { connectWithOAuth, HeadlessOAuthProvider } from './mcp-client';

interface Counters {
  grants: Record<string, { requests: number; ok: number; errors: number }>;
  endpoints: Record<string, number>;
}

async function listItemsOk(client: Client): Promise<void> {
  const result = await client.callTool({ name: 'listItems', arguments: {} });
  assert.notEqual(result.isError, true, JSON.stringify(result.content));
}

async function withStack(
  options: Parameters<typeof startOAuthStack>[0],
  run: (stack: OAuthStack) => Promise<void>,
): Promise<void> {
  const stack = await startOAuthStack(options);
  try {
    await run(stack);
  } finally {
    await stack.close();
  }
}

describe('upstream providers and grants', () => {
  test('your own DCR (with an initial access token): registers once, keeps it sealed, reuses it', async () => {
    await withStack(
      {
        upstream: { mode: 'dcr', registrationToken: 'iat-secret-123' },
        auth: (upstream) => ({
          provider: 'dcr',
          registrationUrl: `${upstream.url}/auth/register`,
          initialAccessToken: 'iat-secret-123',
          authorizationUrl: undefined,
          tokenUrl: undefined,
          clientId: undefined,
          clientSecret: undefined,
        }),
      },
      async (stack) => {
        for (let i = 0; i < 2; i++) {
          const client = await connectWithOAuth(stack.mcpUrl, new HeadlessOAuthProvider());
          await listItemsOk(client);
          await client.close();
        }
        const counters = (await stack.control('/counters')) as Counters;
        assert.equal(counters.endpoints.register, 1);
        const row = stack.store.db
          .prepare('SELECT registration FROM oauth_upstream_clients')
          .pluck()
          .get() as string;
        assert.doesNotMatch(row, /client_secret|client_id/);
      },
    );
  });

  test('proxy-managed DCR, zero config: finds the AS from the spec and registers itself', async () => {
    await withStack(
      {
        upstream: { mode: 'dcr' },
        auth: {
          provider: 'auto',
          authorizationUrl: undefined,
          tokenUrl: undefined,
          clientId: undefined,
          clientSecret: undefined,
        },
      },
      async (stack) => {
        const client = await connectWithOAuth(stack.mcpUrl, new HeadlessOAuthProvider());
        await listItemsOk(client);
        await client.close();
        const counters = (await stack.control('/counters')) as Counters;
        assert.equal(counters.endpoints.register, 1);
      },
    );
  });

  test('client_credentials: MCP clients still authorize at the proxy; one service token upstream', async () => {
    await withStack({ auth: { grant: 'client_credentials' } }, async (stack) => {
      const provider = new HeadlessOAuthProvider();
      const client = await connectWithOAuth(stack.mcpUrl, provider);
      for (let i = 0; i < 3; i++) await listItemsOk(client);
      await client.close();
      assert.equal(provider.authorizations, 1);
      const other = await connectWithOAuth(stack.mcpUrl, new HeadlessOAuthProvider());
      await listItemsOk(other);
      await other.close();
      const counters = (await stack.control('/counters')) as Counters;
      assert.equal(counters.grants.client_credentials?.requests, 1);
      assert.equal(counters.endpoints.authorize ?? 0, 0, 'no browser goes upstream');
    });
  });

  test('client_secret_post and state off (the seed toggles) still complete the flow', async () => {
    await withStack(
      { auth: { tokenEndpointAuthMethod: 'client_secret_post', state: false } },
      async (stack) => {
        const client = await connectWithOAuth(stack.mcpUrl, new HeadlessOAuthProvider());
        await listItemsOk(client);
        await client.close();
      },
    );
  });
});
