import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningTestServer } from '../src/server';
import { api, authorizeInBrowser, basicAuth, pkcePair, start, tokenRequest } from './support';

interface Registered {
  status: number;
  body: Record<string, unknown>;
}

async function register(
  server: RunningTestServer,
  metadata: unknown,
  token?: string,
): Promise<Registered> {
  const res = await fetch(`${server.url}/auth/register`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(metadata),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** authorization_code + PKCE for a registered client, through the real pages. */
async function flowFor(
  server: RunningTestServer,
  clientId: string,
  redirectUri: string,
  auth: 'none' | { id: string; secret: string },
) {
  const { verifier, challenge } = pkcePair();
  const callback = await authorizeInBrowser(server, {
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'items:read',
  });
  const params: Record<string, string> = {
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: redirectUri,
    code_verifier: verifier,
  };
  if (auth === 'none') params.client_id = clientId;
  return { callback, tokens: await tokenRequest(server, params, auth) };
}

describe('dcr mode: open registration', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await start({ mode: 'dcr' });
  });
  after(() => server.close());

  test('metadata advertises the registration endpoint', async () => {
    const { body } = await api(server, 'GET', '/.well-known/oauth-authorization-server');
    assert.equal(body.registration_endpoint, `${server.url}/auth/register`);
  });

  test('a public client like mcp-remote registers and completes a PKCE flow', async () => {
    const redirect = 'http://localhost:5173/oauth/callback';
    const { status, body } = await register(server, {
      client_name: 'mcp-remote',
      redirect_uris: [redirect],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    });
    assert.equal(status, 201);
    assert.equal(body.client_secret, undefined);
    const clientId = String(body.client_id);
    const { tokens } = await flowFor(server, clientId, redirect, 'none');
    assert.equal(tokens.status, 200);
    const items = await api(server, 'GET', '/api/items', {
      authorization: `Bearer ${tokens.body.access_token}`,
    });
    assert.equal(items.status, 200);
    const refreshed = await tokenRequest(
      server,
      {
        grant_type: 'refresh_token',
        refresh_token: String(tokens.body.refresh_token),
        client_id: clientId,
      },
      'none',
    );
    assert.equal(refreshed.status, 200);
  });

  test('a native client may use any loopback port (RFC 8252)', async () => {
    const { body } = await register(server, {
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    });
    const clientId = String(body.client_id);
    const { callback, tokens } = await flowFor(
      server,
      clientId,
      'http://127.0.0.1:43117/callback',
      'none',
    );
    assert.equal(callback.port, '43117');
    assert.equal(tokens.status, 200);
  });

  test('a confidential client registers, gets a secret and uses it', async () => {
    const redirect = 'https://app.example/cb';
    const { status, body } = await register(server, {
      redirect_uris: [redirect],
      grant_types: ['authorization_code', 'client_credentials', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    assert.equal(status, 201);
    const auth = { id: String(body.client_id), secret: String(body.client_secret) };
    const cc = await tokenRequest(
      server,
      { grant_type: 'client_credentials', client_id: auth.id, client_secret: auth.secret },
      'none',
    );
    assert.equal(cc.status, 200);
    const wrong = await tokenRequest(
      server,
      { grant_type: 'client_credentials', client_id: auth.id, client_secret: 'nope' },
      'none',
    );
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
  });

  test('RFC 7592: read, update and delete with the registration access token', async () => {
    const { body } = await register(server, {
      redirect_uris: ['https://app.example/one'],
      client_name: 'one',
    });
    const uri = String(body.registration_client_uri);
    const rat = { authorization: `Bearer ${body.registration_access_token}` };
    assert.equal(uri, `${server.url}/auth/register/${body.client_id}`);

    const read = await fetch(uri, { headers: rat });
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { client_name: string }).client_name, 'one');

    const update = await fetch(uri, {
      method: 'PUT',
      headers: { ...rat, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: body.client_id,
        client_secret: body.client_secret,
        redirect_uris: ['https://app.example/two'],
        client_name: 'two',
      }),
    });
    assert.equal(update.status, 200);
    assert.deepEqual(((await update.json()) as { redirect_uris: string[] }).redirect_uris, [
      'https://app.example/two',
    ]);

    assert.equal((await fetch(uri, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(uri, { method: 'DELETE', headers: rat })).status, 204);
    assert.equal((await fetch(uri, { headers: rat })).status, 401);
  });

  test('invalid metadata is invalid_redirect_uri / invalid_client_metadata', async () => {
    const noRedirect = await register(server, { grant_types: ['authorization_code'] });
    assert.equal(noRedirect.status, 400);
    assert.match(String(noRedirect.body.error), /invalid_(redirect_uri|client_metadata)/);
    const fragment = await register(server, { redirect_uris: ['https://app.example/cb#x'] });
    assert.equal(fragment.status, 400);
  });

  test('registrations are counted and logged with the new client_id', async () => {
    const { body } = await register(server, { redirect_uris: ['https://app.example/logged'] });
    const res = await fetch(`${server.url}/__control/events`, {
      headers: { authorization: `Bearer ${server.controlToken}` },
    });
    const { events } = (await res.json()) as { events: Array<Record<string, unknown>> };
    const logged = events.filter((e) => e.kind === 'register' && e.client_id === body.client_id);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.status, 201);
  });

  test('the pre-registered client is there too', async () => {
    const cc = await tokenRequest(server, { grant_type: 'client_credentials' });
    assert.equal(cc.status, 200);
  });
});

describe('dcr mode: initial access token', () => {
  test('registration needs --registration-token when set', async () => {
    const server = await start({ mode: 'dcr', registrationToken: 'iat_secret' });
    try {
      const without = await register(server, { redirect_uris: ['https://app.example/cb'] });
      assert.equal(without.status, 401);
      assert.equal(without.body.error, 'invalid_token');
      assert.equal(
        (await register(server, { redirect_uris: ['https://app.example/cb'] }, 'wrong')).status,
        401,
      );
      assert.equal(
        (await register(server, { redirect_uris: ['https://app.example/cb'] }, 'iat_secret'))
          .status,
        201,
      );
    } finally {
      await server.close();
    }
  });

  test('oauth mode has no registration endpoint', async () => {
    const server = await start({ mode: 'oauth' });
    try {
      const res = await fetch(`${server.url}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth('a', 'b') },
        body: JSON.stringify({ redirect_uris: ['https://app.example/cb'] }),
      });
      assert.equal(res.status, 404);
    } finally {
      await server.close();
    }
  });
});
