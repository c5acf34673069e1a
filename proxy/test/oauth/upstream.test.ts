import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { UpstreamOAuth } from '../../src/oauth/upstream';
import { json, oauthWorkspace, type TempStore, tempStore } from './support';

const CALLBACK = 'https://proxy.example/oauth/callback';

interface Seen {
  url: string;
  headers: Headers;
  body: URLSearchParams;
  raw: string;
}

describe('UpstreamOAuth (oauth4webapi underneath)', () => {
  let temp: TempStore;
  let seen: Seen[];
  beforeEach(() => {
    temp = tempStore();
    seen = [];
  });
  afterEach(() => temp.close());

  const client = (respond: (s: Seen) => Response) =>
    new UpstreamOAuth({
      repo: temp.repo,
      callbackUrl: CALLBACK,
      clock: () => 1_000,
      fetch: (async (url: string | URL | Request, init?: RequestInit) => {
        const raw = typeof init?.body === 'string' ? init.body : String(init?.body ?? '');
        const s = {
          url: String(url),
          headers: new Headers(init?.headers),
          body: new URLSearchParams(raw),
          raw,
        };
        seen.push(s);
        return respond(s);
      }) as typeof fetch,
    });

  const tokens = () =>
    json({ access_token: 'at', refresh_token: 'rt', token_type: 'Bearer', expires_in: 60 });

  test('the authorization URL carries PKCE S256, state, scopes, resource and extra parameters', async () => {
    const ws = oauthWorkspace({
      scopes: ['items:read', 'users:read'],
      resource: 'https://api.example/',
      extraAuthorizeParams: { audience: 'api', prompt: 'consent' },
    });
    const verifier = oauth.generateRandomCodeVerifier();
    const url = await client(tokens).authorizationUrl(ws, { state: 'st', codeVerifier: verifier });
    const p = url.searchParams;
    assert.equal(url.origin + url.pathname, 'https://as.example/authorize');
    assert.equal(p.get('client_id'), 'proxy-client');
    assert.equal(p.get('redirect_uri'), CALLBACK);
    assert.equal(p.get('scope'), 'items:read users:read');
    assert.equal(p.get('state'), 'st');
    assert.equal(p.get('code_challenge'), await oauth.calculatePKCECodeChallenge(verifier));
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.equal(p.get('resource'), 'https://api.example/');
    assert.equal(p.get('audience'), 'api');
    const bare = await client(tokens).authorizationUrl(oauthWorkspace({ pkce: false }), {});
    assert.equal(bare.searchParams.has('state'), false);
    assert.equal(bare.searchParams.has('code_challenge'), false);
  });

  test('token endpoint authentication: basic by default, post, or none', async () => {
    const cases = [
      [{}, 'basic'],
      [{ tokenEndpointAuthMethod: 'client_secret_post' as const }, 'post'],
      [{ tokenEndpointAuthMethod: 'none' as const, clientSecret: undefined }, 'none'],
    ] as const;
    for (const [auth, expected] of cases) {
      seen = [];
      await client(tokens).refresh(oauthWorkspace(auth), 'rt-old');
      const [request] = seen;
      assert.ok(request);
      const basic = request.headers.get('authorization')?.startsWith('Basic ') ?? false;
      assert.equal(basic, expected === 'basic', expected);
      assert.equal(
        request.body.get('client_secret') === 'proxy-secret',
        expected === 'post',
        expected,
      );
      assert.equal(
        request.body.get('client_id') === 'proxy-client',
        expected !== 'basic',
        expected,
      );
      assert.equal(request.body.get('refresh_token'), 'rt-old');
    }
  });

  test('the code exchange checks state and sends the verifier and the redirect URI', async () => {
    const upstream = client(tokens);
    const ws = oauthWorkspace();
    const params = new URLSearchParams({ code: 'c0de', state: 'good' });
    await assert.rejects(
      upstream.exchangeCode(ws, new URLSearchParams({ code: 'c0de', state: 'bad' }), {
        state: 'good',
        codeVerifier: 'v'.repeat(43),
      }),
      { code: 'ERR_UPSTREAM_REJECTED' },
    );
    assert.equal(seen.length, 0, 'no exchange with a wrong state');
    const result = await upstream.exchangeCode(ws, params, {
      state: 'good',
      codeVerifier: 'v'.repeat(43),
    });
    assert.deepEqual(result, {
      accessToken: 'at',
      refreshToken: 'rt',
      expiresAt: 61_000,
      obtainedAt: 1_000,
      scope: undefined,
    });
    assert.equal(seen[0]?.body.get('code_verifier'), 'v'.repeat(43));
    assert.equal(seen[0]?.body.get('redirect_uri'), CALLBACK);
  });

  test('an upstream that does not rotate keeps the refresh token; invalid_grant and 5xx are told apart', async () => {
    const kept = await client(() =>
      json({ access_token: 'at2', token_type: 'Bearer', expires_in: 60 }),
    ).refresh(oauthWorkspace(), 'rt-keep');
    assert.equal(kept.refreshToken, 'rt-keep');
    await assert.rejects(
      client(() => json({ error: 'invalid_grant' }, 400)).refresh(oauthWorkspace(), 'x'),
      { code: 'ERR_UPSTREAM_INVALID_GRANT' },
    );
    await assert.rejects(
      client(() => new Response('', { status: 503 })).refresh(oauthWorkspace(), 'x'),
      { code: 'ERR_UPSTREAM_UNAVAILABLE' },
    );
    await assert.rejects(
      client(() => json({ error: 'temporarily_unavailable' }, 400)).refresh(oauthWorkspace(), 'x'),
      { code: 'ERR_UPSTREAM_UNAVAILABLE' },
    );
  });

  test('dcr: registers once with the initial access token, sealed, and reuses it after a restart', async () => {
    const ws = oauthWorkspace({
      provider: 'dcr',
      issuer: 'https://as.example',
      registrationUrl: 'https://as.example/register',
      initialAccessToken: 'iat-1',
      clientId: undefined,
      clientSecret: undefined,
    });
    const respond = (s: Seen) => {
      if (s.url.endsWith('/.well-known/oauth-authorization-server')) {
        return json({
          issuer: 'https://as.example',
          authorization_endpoint: 'https://as.example/authorize',
          token_endpoint: 'https://as.example/token',
          registration_endpoint: 'https://as.example/register',
        });
      }
      if (s.url === 'https://as.example/register') {
        return json(
          {
            client_id: 'registered-id',
            client_secret: 'registered-secret',
            client_secret_expires_at: 0,
            redirect_uris: [CALLBACK],
          },
          201,
        );
      }
      return tokens();
    };
    await client(respond).refresh(ws, 'rt');
    const registration = seen.find((s) => s.url === 'https://as.example/register');
    assert.equal(registration?.headers.get('authorization'), 'Bearer iat-1');
    assert.deepEqual(JSON.parse(registration?.raw ?? '{}').redirect_uris, [CALLBACK]);
    const refresh = seen.find((s) => s.url === 'https://as.example/token');
    // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
    const basic = Buffer.from(
      (refresh?.headers.get('authorization') ?? '').replace(/^Basic /, ''),
      'base64',
    ).toString();
    assert.deepEqual(basic.split(':').map(decodeURIComponent), [
      'registered-id',
      'registered-secret',
    ]);
    // A new process (new UpstreamOAuth over the same store) does not register again.
    seen = [];
    await client(respond).refresh(ws, 'rt');
    assert.equal(seen.filter((s) => s.url === 'https://as.example/register').length, 0);
    const stored = temp.store.db
      .prepare('SELECT registration FROM oauth_upstream_clients')
      .pluck()
      .get() as string;
    assert.equal(stored.includes('registered-secret'), false);
  });
});
