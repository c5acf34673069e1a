/**
 * An upstream invalid_grant on refresh ends the grant, and the MCP client hears it as HTTP 401 with
 * the Bearer challenge on that very request (DESIGN.md: "answer the MCP client 401, so it
 * re-authorizes once instead of looping"): whether the refresh runs before the call (expired
 * upstream token) or during it (the upstream answered 401).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Request, Response } from 'express';
import { type OAuthStack, startOAuthStack } from './harness';
import { proxyToken } from './proxy-token';

interface Counters {
  endpoints: Record<string, number>;
  grants: Record<string, { requests?: number }>;
}

/** A stack per describe, with the helpers both use. */
function stackFor(accessTokenTtl: number) {
  let stack: OAuthStack;
  let challenge: string;
  before(async () => {
    stack = await startOAuthStack({ autoApprove: true, accessTokenTtl });
    challenge = `Bearer error="invalid_token", resource_metadata="${stack.proxyUrl}/.well-known/oauth-protected-resource/mcp/test-oauth", scope="items:read items:write users:read"`;
  });
  after(async () => {
    await stack?.close();
  });

  const grantOf = async (token: string): Promise<string> => {
    const granted = await stack.oauth.authorize(
      { headers: { authorization: `Bearer ${token}` } } as Request,
      {} as Response,
      stack.workspace,
    );
    assert.ok(granted?.grantId);
    return granted.grantId;
  };
  const callListItems = async (token: string) => {
    const response = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'listItems', arguments: {} },
      }),
    });
    return {
      status: response.status,
      challenge: response.headers.get('www-authenticate'),
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const counters = async () => (await stack.control('/counters')) as Counters;
  const refreshes = (c: Counters) => c.grants.refresh_token?.requests ?? 0;
  const listCalls = (c: Counters) => c.endpoints['api:listItems'] ?? 0;
  return {
    stack: () => stack,
    challenge: () => challenge,
    grantOf,
    callListItems,
    counters,
    refreshes,
    listCalls,
  };
}

describe('upstream invalid_grant found before the call: 401 on the first MCP request', () => {
  const {
    stack: current,
    challenge,
    grantOf,
    callListItems,
    counters,
    refreshes,
    listCalls,
  } = stackFor(2);

  test('an expired upstream token refreshed before the call: invalid_grant answers 401', async () => {
    const stack = current();
    const token = await proxyToken(stack, 'items:read');
    const grantId = await grantOf(token);
    const expiresAt = stack.oauth.repo.getGrant(grantId)?.upstream?.expiresAt ?? 0;
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
    try {
      while (Date.now() < expiresAt + 100) await new Promise((r) => setTimeout(r, 50));
      const before = await counters();
      const first = await callListItems(token);
      assert.equal(first.status, 401);
      assert.equal(first.challenge, challenge());
      assert.equal(first.body.error, 'invalid_token');
      assert.notEqual(stack.oauth.repo.getGrant(grantId)?.revokedAt, undefined, 'grant dropped');
      const second = await callListItems(token);
      assert.equal(second.status, 401);
      const after = await counters();
      assert.equal(refreshes(after) - refreshes(before), 1, 'one refresh, no loop');
      assert.equal(listCalls(after), listCalls(before), 'no upstream call with a dead token');
    } finally {
      await stack.control('/faults', { method: 'DELETE' });
    }
  });
});

describe('upstream invalid_grant found during the call: 401 instead of a tool error', () => {
  const {
    stack: current,
    challenge,
    grantOf,
    callListItems,
    counters,
    refreshes,
    listCalls,
  } = stackFor(3600);

  test('an upstream 401 during the call, then invalid_grant on refresh: 401, not a tool error', async () => {
    const stack = current();
    const token = await proxyToken(stack, 'items:read');
    const grantId = await grantOf(token);
    const warm = await callListItems(token);
    assert.equal(warm.status, 200);
    // The upstream forgets every token of the proxy's client: the next call meets a 401, and
    // the refresh that follows meets invalid_grant.
    await stack.control('/revoke', {
      method: 'POST',
      body: { client_id: stack.upstream.clientId },
    });
    const before = await counters();
    const ended = await callListItems(token);
    assert.equal(ended.status, 401, JSON.stringify(ended.body));
    assert.equal(ended.challenge, challenge());
    assert.notEqual(stack.oauth.repo.getGrant(grantId)?.revokedAt, undefined, 'grant dropped');
    const after = await counters();
    assert.equal(refreshes(after) - refreshes(before), 1);
    assert.equal(listCalls(after) - listCalls(before), 1, 'no retry after invalid_grant');
    assert.equal((await callListItems(token)).status, 401);
  });
});
