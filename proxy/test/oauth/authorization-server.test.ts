import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Request, Response } from 'express';
import * as oauth from 'oauth4webapi';
import { type OAuthStack, startOAuthStack } from './harness';
import { UserAgent } from './user-agent';

const CLIENT_REDIRECT = 'http://127.0.0.1:43117/callback';

interface Tokens {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  scope?: string;
}

let offset = 0;
const clock = () => Date.now() + offset;

describe('the proxy authorization server for MCP clients', () => {
  let stack: OAuthStack;
  const issued: string[] = [];
  const grantCount = () =>
    stack.store.db.prepare('SELECT COUNT(*) FROM oauth_grants').pluck().get() as number;

  before(async () => {
    stack = await startOAuthStack({ autoApprove: true, module: { clock } });
  });
  after(async () => {
    await stack?.close();
  });

  const register = async (body: Record<string, unknown>) => {
    const response = await fetch(`${stack.proxyUrl}/oauth/test-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };

  const publicClient = async (redirect = CLIENT_REDIRECT) => {
    const { status, body } = await register({
      client_name: 'Test client',
      redirect_uris: [redirect],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    assert.equal(status, 201);
    return body.client_id as string;
  };

  const authorizeUrl = (
    clientId: string,
    challenge: string,
    extra: Record<string, string> = {},
  ) => {
    const url = new URL(`${stack.proxyUrl}/oauth/test-oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'client-state',
      resource: stack.mcpUrl,
      scope: 'items:read users:read',
      ...extra,
    }).toString();
    return url;
  };

  /** Runs the whole browser part; returns the code the client receives. */
  const obtainCode = async (clientId: string, agent = new UserAgent()) => {
    const verifier = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const back = await agent.run(authorizeUrl(clientId, challenge), (u) =>
      u.href.startsWith(CLIENT_REDIRECT),
    );
    assert.equal(back.searchParams.get('state'), 'client-state');
    const code = back.searchParams.get('code');
    assert.ok(code, `no code in ${back.href}`);
    issued.push(code);
    return { code, verifier, agent };
  };

  const token = async (params: Record<string, string>) => {
    const response = await fetch(`${stack.proxyUrl}/oauth/test-oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const body = (await response.json()) as Tokens & { error?: string };
    if (response.ok) {
      issued.push(body.access_token);
      if (body.refresh_token) issued.push(body.refresh_token);
    }
    return { status: response.status, body };
  };

  const exchange = async (clientId: string, code: string, verifier: string) =>
    token({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
      resource: stack.mcpUrl,
    });

  const mcpStatus = async (accessToken?: string) => {
    const response = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` }),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    await response.text();
    return { status: response.status, challenge: response.headers.get('www-authenticate') };
  };

  test('/mcp/<ws> without a token: 401 naming the resource metadata and the scopes', async () => {
    const { status, challenge } = await mcpStatus();
    assert.equal(status, 401);
    assert.equal(
      challenge,
      `Bearer resource_metadata="${stack.proxyUrl}/.well-known/oauth-protected-resource/mcp/test-oauth", scope="items:read items:write users:read"`,
    );
    const bad = await mcpStatus('not-a-proxy-token');
    assert.equal(bad.status, 401);
    assert.match(bad.challenge ?? '', /^Bearer error="invalid_token", resource_metadata=/);
  });

  test('RFC 9728 and RFC 8414 metadata, path-aware with a root fallback', async () => {
    const prm = (await (
      await fetch(`${stack.proxyUrl}/.well-known/oauth-protected-resource/mcp/test-oauth`)
    ).json()) as Record<string, unknown>;
    assert.equal(prm.resource, stack.mcpUrl);
    const issuer = `${stack.proxyUrl}/oauth/test-oauth`;
    assert.deepEqual(prm.authorization_servers, [issuer]);
    const root = (await (
      await fetch(`${stack.proxyUrl}/.well-known/oauth-protected-resource`)
    ).json()) as Record<string, unknown>;
    assert.equal(root.resource, stack.mcpUrl);
    const rootAs = (await (
      await fetch(`${stack.proxyUrl}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    assert.equal(rootAs.issuer, `${stack.proxyUrl}/oauth/test-oauth`);
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), {
        algorithm: 'oauth2',
        [oauth.allowInsecureRequests]: true,
      }),
    );
    assert.equal(as.issuer, issuer);
    assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
    assert.ok(as.token_endpoint_auth_methods_supported?.includes('none'));
    assert.ok(as.grant_types_supported?.includes('refresh_token'));
    assert.equal(as.registration_endpoint, `${issuer}/register`);
  });

  test('DCR accepts loopback (any port) and https redirect URIs, refuses others', async () => {
    for (const uri of [
      'http://localhost:1234/oauth/callback',
      'http://127.0.0.1:6276/oauth/callback',
      'https://client.example/cb',
    ]) {
      const { status } = await register({
        redirect_uris: [uri],
        token_endpoint_auth_method: 'none',
      });
      assert.equal(status, 201, uri);
    }
    const refused = await register({
      redirect_uris: ['http://evil.example/cb'],
      token_endpoint_auth_method: 'none',
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_redirect_uri');
  });

  test('an unknown client gets invalid_client, never a redirect', async () => {
    const response = await fetch(authorizeUrl('no-such-client', 'x'.repeat(43)), {
      redirect: 'manual',
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
  });

  test('authorize needs PKCE S256 and the workspace as resource', async () => {
    const clientId = await publicClient();
    const plain = await fetch(
      authorizeUrl(clientId, 'x'.repeat(43), { code_challenge_method: 'plain' }),
      { redirect: 'manual' },
    );
    assert.equal(
      new URL(plain.headers.get('location') ?? '').searchParams.get('error'),
      'invalid_request',
    );
    const wrong = await fetch(
      authorizeUrl(clientId, 'x'.repeat(43), { resource: `${stack.proxyUrl}/mcp/other` }),
      { redirect: 'manual' },
    );
    assert.equal(
      new URL(wrong.headers.get('location') ?? '').searchParams.get('error'),
      'invalid_target',
    );
  });

  test('a resource with a fragment is invalid_target at authorize and token', async () => {
    const clientId = await publicClient();
    const fragment = await fetch(
      authorizeUrl(clientId, 'x'.repeat(43), { resource: `${stack.mcpUrl}#frag` }),
      { redirect: 'manual' },
    );
    assert.equal(
      new URL(fragment.headers.get('location') ?? '').searchParams.get('error'),
      'invalid_target',
    );
    const { code, verifier } = await obtainCode(clientId);
    const refused = await token({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
      resource: `${stack.mcpUrl}#frag`,
    });
    assert.equal(refused.body.error, 'invalid_target');
  });

  test('authorize without resource defaults to the workspace: the token works there only', async () => {
    const clientId = await publicClient();
    const verifier = oauth.generateRandomCodeVerifier();
    const url = authorizeUrl(clientId, await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.delete('resource');
    const back = await new UserAgent().run(url, (u) => u.href.startsWith(CLIENT_REDIRECT));
    const code = back.searchParams.get('code') ?? '';
    issued.push(code);
    const tokens = await token({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
    });
    assert.equal(tokens.status, 200);
    assert.equal((await mcpStatus(tokens.body.access_token)).status, 200);
    const other = await fetch(`${stack.proxyUrl}/mcp/other-workspace`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${tokens.body.access_token}`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    await other.text();
    assert.notEqual(other.status, 200);
  });

  test('consent: a wrong CSRF token or another browser gets an error page, nothing stored', async () => {
    const clientId = await publicClient();
    const agent = new UserAgent();
    const page = await agent.request(authorizeUrl(clientId, 'y'.repeat(43)));
    const html = await page.text();
    const flow = /name="flow" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const post = (ua: UserAgent, fields: Record<string, string>) =>
      ua.request(new URL(`${stack.proxyUrl}/oauth/test-oauth/consent`), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    const grants = grantCount();
    assert.equal((await post(agent, { flow, csrf: 'wrong', decision: 'approve' })).status, 400);
    assert.equal((await post(new UserAgent(), { flow, csrf, decision: 'approve' })).status, 400);
    const ok = await post(agent, { flow, csrf, decision: 'approve' });
    assert.equal(ok.status, 302);
    assert.equal(grantCount(), grants);
  });

  test('consent is remembered per browser and client; denying sends access_denied to the client', async () => {
    const clientId = await publicClient();
    const agent = new UserAgent();
    await obtainCode(clientId, agent);
    const consentPages = () =>
      agent.pages.filter((p) => p.html.includes('id="client-name"')).length;
    assert.equal(consentPages(), 1);
    await obtainCode(clientId, agent);
    assert.equal(consentPages(), 1, 'the same browser and client are not asked again');
    await obtainCode(await publicClient(), agent);
    assert.equal(consentPages(), 2, 'another client is asked');
    await obtainCode(clientId, new UserAgent());
    const denying = new UserAgent({ consent: 'deny' });
    const back = await denying.run(authorizeUrl(await publicClient(), 'z'.repeat(43)), (u) =>
      u.href.startsWith(CLIENT_REDIRECT),
    );
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 'client-state');
  });

  test('the consent page names the upstream sign-in, marks the client name as its own claim, fits phones, stays unframeable', async () => {
    const { body } = await register({
      client_name: 'Claude Desktop',
      redirect_uris: [CLIENT_REDIRECT],
      token_endpoint_auth_method: 'none',
    });
    const page = await new UserAgent().request(authorizeUrl(body.client_id ?? '', 'v'.repeat(43)));
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(
      html,
      /<meta name="viewport" content="width=device-width, initial-scale=1">/,
      'viewport meta',
    );
    assert.match(html, /says it is <strong id="client-name">Claude Desktop<\/strong>/);
    assert.match(html, /chose this name itself/);
    const upstreamOrigin = new URL(stack.upstream.url).origin;
    assert.match(
      html,
      new RegExp(
        `sign in at <strong id="upstream-origin">${upstreamOrigin.replace(/\./g, '\\.')}</strong>`,
      ),
    );
    assert.match(html, /name="csrf" value="[A-Za-z0-9_-]{43}"/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  });

  test('the consent page shows a hostile client name as text', async () => {
    const { body } = await register({
      client_name: '<script>alert(1)</script>',
      redirect_uris: [CLIENT_REDIRECT],
      token_endpoint_auth_method: 'none',
    });
    const page = await new UserAgent().request(authorizeUrl(body.client_id ?? '', 'w'.repeat(43)));
    const html = await page.text();
    assert.equal(html.includes('<script>'), false);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  test('confidential clients get a secret; unsupported methods are refused', async () => {
    const { status, body } = await register({
      redirect_uris: ['https://client.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    assert.equal(status, 201);
    assert.equal(body.token_endpoint_auth_method, 'client_secret_basic');
    assert.ok((body.client_secret ?? '').length >= 32);
    const unsupported = await register({
      redirect_uris: ['https://client.example/cb'],
      token_endpoint_auth_method: 'private_key_jwt',
    });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.error, 'invalid_client_metadata');
    const missing = await token({
      grant_type: 'refresh_token',
      client_id: body.client_id ?? '',
      refresh_token: 'x',
    });
    assert.equal(missing.body.error, 'invalid_client');
  });

  test('callback state missing, wrong, from another browser or replayed: error page, nothing stored', async () => {
    const clientId = await publicClient();
    const agent = new UserAgent();
    const challenge = await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier());
    const callback = await agent.run(
      authorizeUrl(clientId, challenge),
      (u) => u.pathname === '/oauth/callback',
    );
    const state = callback.searchParams.get('state') ?? '';
    assert.ok(state.length >= 32);
    const grants = grantCount();
    const variants: Array<[UserAgent, URL]> = [];
    const missing = new URL(callback);
    missing.searchParams.delete('state');
    variants.push([agent, missing]);
    const wrong = new URL(callback);
    wrong.searchParams.set('state', `${state}x`);
    variants.push([agent, wrong]);
    variants.push([new UserAgent(), callback]);
    for (const [ua, url] of variants) {
      const response = await ua.request(url);
      assert.equal(response.status, 400, url.href);
      assert.match(await response.text(), /does not match a pending request/);
      assert.equal(grantCount(), grants);
    }
    const good = await agent.request(callback);
    assert.equal(good.status, 302);
    assert.equal(grantCount(), grants + 1);
    const replay = await agent.request(callback);
    assert.equal(replay.status, 400);
    assert.equal(grantCount(), grants + 1);
  });

  test('codes are single use and bound to the PKCE verifier; a replay revokes what the code gave', async () => {
    const clientId = await publicClient();
    const { code, verifier } = await obtainCode(clientId);
    const wrongVerifier = await exchange(clientId, code, oauth.generateRandomCodeVerifier());
    assert.equal(wrongVerifier.body.error, 'invalid_grant');
    const ok = await exchange(clientId, code, verifier);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.scope, 'items:read users:read');
    assert.equal((await mcpStatus(ok.body.access_token)).status, 200);
    const replay = await exchange(clientId, code, verifier);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.equal((await mcpStatus(ok.body.access_token)).status, 401);
  });

  test('refresh tokens rotate; the previous one works only within the grace, then the family is revoked', async () => {
    const clientId = await publicClient();
    const { code, verifier } = await obtainCode(clientId);
    const first = (await exchange(clientId, code, verifier)).body;
    const refresh = (rt: string, scope?: string) =>
      token({
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: rt,
        resource: stack.mcpUrl,
        ...(scope === undefined ? {} : { scope }),
      });
    const second = await refresh(first.refresh_token ?? '', 'items:read');
    assert.equal(second.status, 200);
    assert.equal(second.body.scope, 'items:read');
    assert.notEqual(second.body.refresh_token, first.refresh_token);
    const widened = await refresh(second.body.refresh_token ?? '', 'items:read items:write');
    assert.equal(widened.body.error, 'invalid_scope');
    const unknownIgnored = await refresh(second.body.refresh_token ?? '', 'openid items:read');
    assert.equal(unknownIgnored.body.scope, 'items:read');
    const full = await refresh(unknownIgnored.body.refresh_token ?? '');
    assert.equal(full.body.scope, 'items:read users:read', 'the grant was not narrowed');
    const graceReplay = await refresh(first.refresh_token ?? '');
    assert.equal(graceReplay.status, 200);
    offset += 60_000;
    try {
      const lateReplay = await refresh(first.refresh_token ?? '');
      assert.equal(lateReplay.body.error, 'invalid_grant');
      assert.equal((await mcpStatus(full.body.access_token)).status, 401);
      assert.equal((await refresh(full.body.refresh_token ?? '')).body.error, 'invalid_grant');
    } finally {
      offset -= 60_000;
    }
  });

  test("authorize() resolves the grant and the proxy token's scopes, narrowed ones included", async () => {
    const clientId = await publicClient();
    const { code, verifier } = await obtainCode(clientId);
    const full = (await exchange(clientId, code, verifier)).body;
    const check = (accessToken: string) =>
      stack.oauth.authorize(
        { headers: { authorization: `Bearer ${accessToken}` } } as Request,
        {} as Response,
        stack.workspace,
      );
    const granted = await check(full.access_token);
    assert.deepEqual(granted?.scopes, ['items:read', 'users:read']);
    assert.equal(typeof granted?.grantId, 'string');
    const narrowed = await token({
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: full.refresh_token ?? '',
      resource: stack.mcpUrl,
      scope: 'users:read',
    });
    const result = await check(narrowed.body.access_token);
    assert.deepEqual(result?.scopes, ['users:read']);
    assert.equal(result?.grantId, granted?.grantId);
  });

  test('revoking a refresh token ends its grant', async () => {
    const clientId = await publicClient();
    const { code, verifier } = await obtainCode(clientId);
    const tokens = (await exchange(clientId, code, verifier)).body;
    assert.equal((await mcpStatus(tokens.access_token)).status, 200);
    const response = await fetch(`${stack.proxyUrl}/oauth/test-oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: clientId,
        token: tokens.refresh_token ?? '',
      }).toString(),
    });
    assert.equal(response.status, 200);
    assert.equal((await mcpStatus(tokens.access_token)).status, 401);
  });

  test('no token issued during these tests is in the database files or the logs', () => {
    const upstream = stack.store.db
      .prepare('SELECT id FROM oauth_grants')
      .pluck()
      .all()
      .flatMap((id) => {
        // Revoked grants have no upstream tokens left; live ones are read back through the repo.
        const tokens = stack.oauth.repo.getGrant(String(id))?.upstream;
        return tokens === undefined ? [] : [tokens.accessToken, tokens.refreshToken ?? ''];
      })
      .filter(Boolean);
    assert.ok(upstream.length > 0);
    stack.store.db.pragma('wal_checkpoint(PASSIVE)');
    const files = ['proxy.db', 'proxy.db-wal']
      .map((f) => join(stack.dataDir, f))
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'));
    const logs = stack.logs.join('\n');
    const secrets = [...issued, ...upstream, stack.upstream.clientSecret];
    assert.ok(issued.length > 10);
    for (const secret of secrets) {
      for (const file of files)
        assert.equal(file.includes(secret), false, 'a token is stored in clear');
      assert.equal(logs.includes(secret), false, 'a token was logged');
    }
  });
});
