import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type OAuthStack, startOAuthStack } from './harness';
import { connectWithOAuth, HeadlessOAuthProvider } from './mcp-client';

describe('MCP SDK client through the proxy OAuth flow (Custom OAuth, the seed workspace)', () => {
  let stack: OAuthStack;
  before(async () => {
    stack = await startOAuthStack({ autoApprove: true });
  });
  after(async () => {
    await stack?.close();
  });

  test('authorizes once through consent and upstream, then calls all five tools', async () => {
    const provider = new HeadlessOAuthProvider();
    const client = await connectWithOAuth(stack.mcpUrl, provider);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'createItem',
      'deleteItem',
      'getItem',
      'listItems',
      'listUsers',
    ]);
    const created = await client.callTool({
      name: 'createItem',
      arguments: { body: { name: 'pen' } },
    });
    assert.equal(created.isError, undefined, JSON.stringify(created));
    await client.close();
    assert.equal(provider.authorizations, 1);
  });
});
