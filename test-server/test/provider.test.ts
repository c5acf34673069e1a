import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningTestServer } from '../src/server';
import {
  API_TTL_WAIT,
  api,
  authorizeInBrowser,
  authorizeUrl,
  Browser,
  CALLBACK,
  codeFlow,
  control,
  jwtPayload,
  pkcePair,
  start,
  tokenRequest,
} from './support';

const ALL_SCOPES = 'items:read items:write users:read';

describe('oauth mode: metadata', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await start();
  });
  after(() => server.close());

  test('RFC 8414 metadata names the /auth endpoints, S256 only, the grants and the API scopes', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]) {
      const { status, body } = await api(server, 'GET', path);
      assert.equal(status, 200, path);
      assert.equal(body.issuer, server.url);
      assert.equal(body.authorization_endpoint, `${server.url}/auth/authorize`);
      assert.equal(body.token_endpoint, `${server.url}/auth/token`);
      assert.equal(body.jwks_uri, `${server.url}/auth/jwks`);
      assert.equal(body.introspection_endpoint, `${server.url}/auth/introspect`);
      assert.equal(body.revocation_endpoint, `${server.url}/auth/revoke`);
      assert.equal(body.userinfo_endpoint, `${server.url}/auth/userinfo`);
      assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
      assert.equal(body.authorization_response_iss_parameter_supported, true);
      assert.equal(body.registration_endpoint, undefined, 'no registration outside dcr mode');
      for (const grant of ['authorization_code', 'client_credentials', 'refresh_token']) {
        assert.ok((body.grant_types_supported as string[]).includes(grant), grant);
      }
      for (const scope of ALL_SCOPES.split(' ')) {
        assert.ok((body.scopes_supported as string[]).includes(scope), scope);
      }
      for (const method of ['client_secret_basic', 'client_secret_post']) {
        assert.ok((body.token_endpoint_auth_methods_supported as string[]).includes(method));
      }
    }
  });

  test('RFC 9728 protected resource metadata points at this issuer', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/api',
    ]) {
      const { status, body } = await api(server, 'GET', path);
      assert.equal(status, 200);
      assert.equal(body.resource, server.apiUrl);
      assert.deepEqual(body.authorization_servers, [server.issuer]);
      assert.deepEqual(body.scopes_supported, ALL_SCOPES.split(' '));
    }
  });

  test('the JWKS holds only public keys', async () => {
    const { body } = await api(server, 'GET', '/auth/jwks');
    const keys = body.keys as Array<Record<string, unknown>>;
    assert.ok(keys.length >= 1);
    for (const key of keys) assert.equal(key.d, undefined);
  });
});

describe('oauth mode: client_credentials and client authentication', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await start();
  });
  after(() => server.close());

  test('client_secret_basic and client_secret_post both get an RFC 9068 JWT for the API', async () => {
    for (const auth of ['basic', 'post'] as const) {
      const { status, body, headers } = await tokenRequest(
        server,
        { grant_type: 'client_credentials' },
        auth,
      );
      assert.equal(status, 200, auth);
      assert.equal(headers.get('cache-control'), 'no-store');
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.scope, ALL_SCOPES, 'no scope asked: the default scopes');
      const token = String(body.access_token);
      const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString());
      assert.equal(header.typ, 'at+jwt');
      const claims = jwtPayload(token);
      assert.equal(claims.iss, server.issuer);
      assert.equal(claims.aud, server.apiUrl);
      assert.equal(claims.client_id, 'test-client-id');
      const items = await api(server, 'GET', '/api/items', { authorization: `Bearer ${token}` });
      assert.equal(items.status, 200);
    }
  });

  test('a narrower scope is honoured', async () => {
    const { body } = await tokenRequest(server, {
      grant_type: 'client_credentials',
      scope: 'items:read',
    });
    assert.equal(body.scope, 'items:read');
  });

  test('a resource other than the API is invalid_target', async () => {
    const { status, body } = await tokenRequest(server, {
      grant_type: 'client_credentials',
      resource: 'https://elsewhere.example/api',
    });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_target');
    const ok = await tokenRequest(server, {
      grant_type: 'client_credentials',
      resource: server.apiUrl,
    });
    assert.equal(ok.status, 200);
  });

  test('a wrong secret or an unknown client is 401 invalid_client', async () => {
    for (const auth of [
      { id: 'test-client-id', secret: 'wrong' },
      { id: 'no-such-client', secret: server.clientSecret },
    ]) {
      const { status, body, headers } = await tokenRequest(
        server,
        { grant_type: 'client_credentials' },
        auth,
      );
      assert.equal(status, 401, auth.id);
      assert.equal(body.error, 'invalid_client');
      assert.match(headers.get('www-authenticate') ?? '', /^Basic /, 'RFC 6749 §5.2');
    }
    const post = await fetch(`${server.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'test-client-id',
        client_secret: 'nope',
      }),
    });
    assert.equal(post.status, 401);
    assert.equal(((await post.json()) as { error: string }).error, 'invalid_client');
  });

  test('an oversized token request is refused with 413, not a server error', async () => {
    const res = await fetch(`${server.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&pad=${'a'.repeat(100_000)}`,
    });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  test('an unsupported grant type is unsupported_grant_type', async () => {
    const { status, body } = await tokenRequest(server, {
      grant_type: 'password',
      username: 'a',
      password: 'b',
    });
    assert.equal(status, 400);
    assert.equal(body.error, 'unsupported_grant_type');
  });
});

describe('oauth mode: authorization_code + PKCE', () => {
  let server: RunningTestServer;
  const extraCallback = 'http://127.0.0.1:9999/other/callback';
  before(async () => {
    server = await start({ redirectUris: [extraCallback] });
  });
  after(() => server.close());

  test('login and consent pages lead to a code with state and iss (RFC 9207), then tokens', async () => {
    const { verifier, challenge } = pkcePair();
    const callback = await authorizeInBrowser(server, {
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-123',
      scope: 'items:read',
    });
    assert.equal(`${callback.origin}${callback.pathname}`, CALLBACK);
    assert.equal(callback.searchParams.get('state'), 'st-123');
    assert.equal(callback.searchParams.get('iss'), server.issuer);
    const code = callback.searchParams.get('code') ?? '';
    const { status, body } = await tokenRequest(server, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      code_verifier: verifier,
    });
    assert.equal(status, 200);
    assert.equal(body.scope, 'items:read');
    assert.equal(typeof body.refresh_token, 'string');
    assert.equal(jwtPayload(String(body.access_token)).sub, 'alice');

    const reused = await tokenRequest(server, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      code_verifier: verifier,
    });
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error, 'invalid_grant', 'a code works once');
  });

  test('a request without scope still succeeds, with the default scopes', async () => {
    const tokens = await codeFlow(server, { scope: undefined });
    assert.equal(tokens.status, 200);
    assert.equal(tokens.body.scope, ALL_SCOPES);
  });

  test('a wrong or missing code_verifier is invalid_grant', async () => {
    for (const verifier of ['x'.repeat(43), undefined]) {
      const { challenge } = pkcePair();
      const callback = await authorizeInBrowser(server, {
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const params: Record<string, string> = {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: CALLBACK,
      };
      if (verifier) params.code_verifier = verifier;
      const { status, body } = await tokenRequest(server, params);
      assert.equal(status, 400);
      assert.equal(body.error, 'invalid_grant', `verifier ${verifier ?? 'missing'}`);
    }
  });

  test('PKCE is required and plain is refused, as errors sent to the redirect URI', async () => {
    const browser = new Browser(server.url);
    for (const params of [
      { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain', state: 's1' },
      { state: 's2' },
    ]) {
      const step = await browser.navigate(authorizeUrl(server, params));
      assert.ok('redirect' in step, JSON.stringify(params));
      assert.equal(step.redirect.searchParams.get('error'), 'invalid_request');
      assert.equal(step.redirect.searchParams.get('state'), params.state);
      assert.equal(step.redirect.searchParams.get('iss'), server.issuer);
    }
  });

  test('an unregistered redirect_uri gets an error page, never a redirect', async () => {
    const { challenge } = pkcePair();
    const step = await new Browser(server.url).navigate(
      authorizeUrl(server, {
        redirect_uri: 'http://localhost:8080/evil',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    assert.ok('page' in step);
    assert.equal(step.page.status, 400);
    assert.match(step.page.html, /redirect_uri/);
  });

  test('a redirect_uri at the token endpoint that differs from the authorize one is invalid_grant', async () => {
    const { verifier, challenge } = pkcePair();
    const callback = await authorizeInBrowser(server, {
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const { status, body } = await tokenRequest(server, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: extraCallback,
      code_verifier: verifier,
    });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_grant');
  });

  test('every --redirect-uri is registered', async () => {
    const { verifier, challenge } = pkcePair();
    const callback = await authorizeInBrowser(server, {
      redirect_uri: extraCallback,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    assert.equal(`${callback.origin}${callback.pathname}`, extraCallback);
    const { status } = await tokenRequest(server, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: extraCallback,
      code_verifier: verifier,
    });
    assert.equal(status, 200);
  });

  test('an unknown client gets an error page; a bad response_type an error redirect', async () => {
    const { challenge } = pkcePair();
    const browser = new Browser(server.url);
    const unknown = await browser.navigate(
      authorizeUrl(server, {
        client_id: 'nobody',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    assert.ok('page' in unknown, 'never redirect for an unknown client (RFC 6749 §4.1.2.1)');
    assert.equal(unknown.page.status, 400);
    assert.match(unknown.page.html, /invalid_client/);
    const token = await browser.navigate(
      authorizeUrl(server, {
        response_type: 'token',
        state: 'rt',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    assert.ok('redirect' in token);
    assert.equal(
      token.redirect.searchParams.get('error') ??
        new URLSearchParams(token.redirect.hash.slice(1)).get('error'),
      'unsupported_response_type',
    );
  });

  test('a resource other than the API is invalid_target at authorize', async () => {
    const { challenge } = pkcePair();
    const step = await new Browser(server.url).navigate(
      authorizeUrl(server, {
        resource: 'https://elsewhere.example/',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    assert.ok('redirect' in step);
    assert.equal(step.redirect.searchParams.get('error'), 'invalid_target');
  });

  test('an expired code is invalid_grant', async () => {
    await control(server, 'PUT', '/ttl', { authorizationCode: 1 });
    try {
      const { verifier, challenge } = pkcePair();
      const callback = await authorizeInBrowser(server, {
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const issuedAt = Math.floor(Date.now() / 1000);
      // oidc-provider counts whole seconds: the code is expired once the clock passes iat + 1.
      while (Math.floor(Date.now() / 1000) <= issuedAt + 1)
        await new Promise((r) => setTimeout(r, 100));
      const { status, body } = await tokenRequest(server, {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      });
      assert.equal(status, 400);
      assert.equal(body.error, 'invalid_grant');
    } finally {
      await control(server, 'POST', '/reset');
    }
  });

  test('refresh tokens rotate; replaying a used one is invalid_grant and ends the family', async () => {
    const first = await codeFlow(server);
    const rt1 = String(first.body.refresh_token);
    const second = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt1 });
    assert.equal(second.status, 200);
    const rt2 = String(second.body.refresh_token);
    assert.notEqual(rt2, rt1, 'a new refresh token each time');
    assert.equal(second.body.scope, ALL_SCOPES);
    assert.equal(jwtPayload(String(second.body.access_token)).aud, server.apiUrl);

    const replay = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt1 });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    const after = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt2 });
    assert.equal(after.body.error, 'invalid_grant', 'reuse revoked the whole grant');
  });

  test('a refresh token does not work for another client', async () => {
    const { body } = await codeFlow(server);
    const { status, body: error } = await tokenRequest(
      server,
      { grant_type: 'refresh_token', refresh_token: String(body.refresh_token) },
      { id: 'other', secret: 'x' },
    );
    assert.equal(status, 401);
    assert.equal(error.error, 'invalid_client');
  });
});

describe('oauth mode: --auto-approve', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await start({ autoApprove: true });
  });
  after(() => server.close());

  test('no page is shown, even with prompt=consent, and alice is logged in', async () => {
    const { verifier, challenge } = pkcePair();
    const step = await new Browser(server.url).navigate(
      authorizeUrl(server, {
        code_challenge: challenge,
        code_challenge_method: 'S256',
        prompt: 'consent',
        scope: 'items:read users:read',
        state: 'abc',
      }),
    );
    assert.ok('redirect' in step, 'straight back to the callback');
    assert.equal(step.redirect.searchParams.get('state'), 'abc');
    const { body } = await tokenRequest(server, {
      grant_type: 'authorization_code',
      code: step.redirect.searchParams.get('code') ?? '',
      redirect_uri: CALLBACK,
      code_verifier: verifier,
    });
    assert.equal(body.scope, 'items:read users:read');
    assert.equal(jwtPayload(String(body.access_token)).sub, 'alice');
  });

  test('prompt=none succeeds too: no page is shown anyway', async () => {
    const { challenge } = pkcePair();
    const step = await new Browser(server.url).navigate(
      authorizeUrl(server, {
        code_challenge: challenge,
        code_challenge_method: 'S256',
        prompt: 'none',
      }),
    );
    assert.ok('redirect' in step);
    assert.ok(step.redirect.searchParams.get('code'), step.redirect.href);
  });

  test('an mcp-remote style request (openid scopes, resource, prompt=consent) gets API scopes', async () => {
    const tokens = await codeFlow(server, {
      scope: 'openid email profile',
      prompt: 'consent',
      resource: server.apiUrl,
    });
    assert.equal(tokens.status, 200);
    assert.match(String(tokens.body.scope), /items:read/);
  });
});

describe('token lifetimes and formats', () => {
  test('a 2 s access token works, then expires with 401 invalid_token', async () => {
    const server = await start({ accessTokenTtl: 2 });
    try {
      const { body } = await tokenRequest(server, { grant_type: 'client_credentials' });
      assert.equal(body.expires_in, 2);
      const auth = { authorization: `Bearer ${body.access_token}` };
      assert.equal((await api(server, 'GET', '/api/items', auth)).status, 200);
      const deadline = Date.now() + API_TTL_WAIT;
      let last = 200;
      while (Date.now() < deadline && last === 200) {
        await new Promise((r) => setTimeout(r, 200));
        last = (await api(server, 'GET', '/api/items', auth)).status;
      }
      const expired = await api(server, 'GET', '/api/items', auth);
      assert.equal(expired.status, 401);
      assert.equal(expired.body.error, 'invalid_token');
      assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    } finally {
      await server.close();
    }
  });

  test('a 2 s refresh token expires: invalid_grant', async () => {
    const server = await start({ refreshTokenTtl: 2, autoApprove: true });
    try {
      const { body } = await codeFlow(server);
      const deadline = Date.now() + API_TTL_WAIT;
      let result = await tokenRequest(server, {
        grant_type: 'refresh_token',
        refresh_token: String(body.refresh_token),
      });
      assert.equal(result.status, 200);
      const rt = String(result.body.refresh_token);
      // A fresh token from each rotation lives 2 s: wait with the last one until it lapses.
      const issued = Date.now();
      while (Date.now() < deadline && Date.now() - issued < 3100) {
        await new Promise((r) => setTimeout(r, 200));
      }
      result = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt });
      assert.equal(result.status, 400);
      assert.equal(result.body.error, 'invalid_grant');
    } finally {
      await server.close();
    }
  });

  test('TTL changes through the control API apply to tokens issued afterwards', async () => {
    const server = await start();
    try {
      const changed = await control(server, 'PUT', '/ttl', { accessToken: 5 });
      assert.equal(changed.body.accessTokenTtl, 5);
      const { body } = await tokenRequest(server, { grant_type: 'client_credentials' });
      assert.equal(body.expires_in, 5);
    } finally {
      await server.close();
    }
  });

  test('opaque tokens: accepted by the API, introspectable, revocable', async () => {
    const server = await start({ tokenFormat: 'opaque', autoApprove: true });
    try {
      const { body } = await codeFlow(server);
      const token = String(body.access_token);
      assert.equal(token.split('.').length, 1, 'not a JWT');
      const auth = { authorization: `Bearer ${token}` };
      assert.equal((await api(server, 'GET', '/api/items', auth)).status, 200);

      const introspect = async () => {
        const res = await fetch(`${server.url}/auth/introspect`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${server.clientId}:${server.clientSecret}`).toString('base64')}`,
          },
          body: new URLSearchParams({ token }),
        });
        return (await res.json()) as Record<string, unknown>;
      };
      const active = await introspect();
      assert.equal(active.active, true);
      assert.equal(active.client_id, server.clientId);
      assert.equal(active.sub, 'alice');

      const revoke = await fetch(`${server.url}/auth/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${server.clientId}:${server.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      });
      assert.equal(revoke.status, 200);
      assert.equal((await introspect()).active, false);
      assert.equal((await api(server, 'GET', '/api/items', auth)).status, 401);
    } finally {
      await server.close();
    }
  });
});
