/**
 * When the proxy drops a downstream grant, the upstream refresh token is revoked at the upstream
 * (RFC 7009), observable against the test server in opaque-token mode through introspection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { GrantError } from '../../src/oauth';
import { type OAuthStack, startOAuthStack } from './harness';
import { UserAgent } from './user-agent';

const REDIRECT = 'http://127.0.0.1:43119/callback';

let offset = 0;
const clock = () => Date.now() + offset;

describe('upstream revocation when a downstream grant is revoked', () => {
  let stack: OAuthStack;
  const upstreamTokens: string[] = [];

  before(async () => {
    stack = await startOAuthStack({
      autoApprove: true,
      upstream: { tokenFormat: 'opaque' },
      module: { clock, refreshRetries: 0 },
    });
  });
  after(async () => {
    await stack?.close();
  });

  const form = async (url: string, params: Record<string, string>, authorization?: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: new URLSearchParams(params).toString(),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };

  /** Whether the upstream still honours a token (RFC 7662, as the proxy's upstream client). */
  const upstreamActive = async (token: string): Promise<boolean> => {
    const { clientId, clientSecret } = stack.upstream;
    const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    const { body } = await form(`${stack.upstream.url}/auth/introspect`, { token }, basic);
    return (body as unknown as { active: boolean }).active;
  };

  const waitInactive = async (token: string) => {
    for (let i = 0; i < 100; i++) {
      if (!(await upstreamActive(token))) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.fail('the upstream refresh token is still active');
  };

  /** A full authorization for a new public client: its proxy tokens and the grant's upstream refresh token. */
  const authorized = async () => {
    const register = await fetch(`${stack.proxyUrl}/oauth/test-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
    });
    const clientId = ((await register.json()) as { client_id: string }).client_id;
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(`${stack.proxyUrl}/oauth/test-oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource: stack.mcpUrl,
    }).toString();
    const back = await new UserAgent().run(url, (u) => u.href.startsWith(REDIRECT));
    const tokens = await form(`${stack.proxyUrl}/oauth/test-oauth/token`, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: back.searchParams.get('code') ?? '',
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      resource: stack.mcpUrl,
    });
    assert.equal(tokens.status, 200);
    const grantId = String(
      stack.store.db
        .prepare('SELECT id FROM oauth_grants WHERE client_id = ?')
        .pluck()
        .get(clientId),
    );
    const upstream = stack.oauth.repo.getGrant(grantId)?.upstream;
    assert.ok(upstream?.refreshToken, 'the upstream gave a refresh token');
    upstreamTokens.push(upstream.accessToken, upstream.refreshToken);
    assert.equal(await upstreamActive(upstream.refreshToken), true);
    return { clientId, grantId, tokens: tokens.body, upstream };
  };

  const lastRevokeEvent = async () => {
    const { events } = (await stack.control('/events')) as {
      events: Array<{ kind: string; status: number; client_id?: string }>;
    };
    return events.filter((e) => e.kind === 'revoke').at(-1);
  };

  test('the revocation endpoint revokes the upstream refresh token too', async () => {
    const { clientId, tokens, upstream } = await authorized();
    const started = Date.now();
    const revoked = await form(`${stack.proxyUrl}/oauth/test-oauth/revoke`, {
      client_id: clientId,
      token: tokens.refresh_token ?? '',
    });
    assert.equal(revoked.status, 200);
    assert.ok(Date.now() - started < 2_000, 'the response did not wait long for the upstream');
    await waitInactive(upstream.refreshToken ?? '');
    const event = await lastRevokeEvent();
    assert.equal(event?.status, 200);
    assert.equal(event?.client_id, stack.upstream.clientId);
  });

  test('a refresh-token replay after the grace revokes the family, upstream included', async () => {
    const { clientId, tokens, upstream } = await authorized();
    const refresh = (token: string) =>
      form(`${stack.proxyUrl}/oauth/test-oauth/token`, {
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: token,
        resource: stack.mcpUrl,
      });
    assert.equal((await refresh(tokens.refresh_token ?? '')).status, 200);
    assert.equal(await upstreamActive(upstream.refreshToken ?? ''), true);
    offset += 60_000;
    try {
      assert.equal((await refresh(tokens.refresh_token ?? '')).body.error, 'invalid_grant');
    } finally {
      offset -= 60_000;
    }
    await waitInactive(upstream.refreshToken ?? '');
  });

  test("the upstream's invalid_grant on refresh drops the grant and revokes its refresh token upstream", async () => {
    const { grantId, upstream } = await authorized();
    await stack.control('/faults', {
      method: 'POST',
      body: {
        target: 'token',
        grant_type: 'refresh_token',
        kind: 'oauth_error',
        error: 'invalid_grant',
      },
    });
    await assert.rejects(
      stack.oauth.lifecycle.refreshGrant(stack.workspace, grantId, upstream.accessToken),
      (error: unknown) => error instanceof GrantError && error.code === 'ERR_GRANT_REVOKED',
    );
    assert.equal(stack.oauth.repo.grantIsLive(grantId), false);
    await waitInactive(upstream.refreshToken ?? '');
  });

  test('each revocation is logged by grant, never with the token', () => {
    const logs = stack.logs.join('\n');
    assert.equal(logs.match(/upstream token revoked/g)?.length, 3);
    assert.equal(upstreamTokens.length, 6);
    for (const token of upstreamTokens) assert.equal(logs.includes(token), false);
  });
});
