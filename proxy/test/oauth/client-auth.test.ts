import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { OAuthRepository } from '../../src/oauth/repository';
import { sha256Hex } from '../../src/oauth/tokens';
import { type OAuthStack, startOAuthStack } from './harness';
import { tempStore } from './support';
import { UserAgent } from './user-agent';

const REDIRECT = 'http://127.0.0.1:43118/callback';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('client authentication at the proxy token and revocation endpoints', () => {
  let stack: OAuthStack;

  before(async () => {
    stack = await startOAuthStack({ autoApprove: true });
  });
  after(async () => {
    await stack?.close();
  });

  const register = async (body: Record<string, unknown>) => {
    const response = await fetch(`${stack.proxyUrl}/oauth/test-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], ...body }),
    });
    assert.equal(response.status, 201);
    return (await response.json()) as Record<string, string>;
  };

  const post = async (
    endpoint: 'token' | 'revoke',
    params: Record<string, string>,
    authorization?: string,
  ) => {
    const response = await fetch(`${stack.proxyUrl}/oauth/test-oauth/${endpoint}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: new URLSearchParams(params).toString(),
    });
    const body = (await response.json()) as Record<string, string>;
    return { status: response.status, challenge: response.headers.get('www-authenticate'), body };
  };

  /** A refresh with a token that doesn't exist: invalid_grant (400) proves the client got through. */
  const bogusRefresh = { grant_type: 'refresh_token', refresh_token: 'no-such-token' };

  const codeFor = async (clientId: string) => {
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
    const code = back.searchParams.get('code');
    assert.ok(code, `no code in ${back.href}`);
    return {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      resource: stack.mcpUrl,
    };
  };

  test('a confidential client registered without a method gets client_secret_basic; only the hash is stored', async () => {
    const client = await register({ client_name: 'Confidential' });
    assert.equal(client.token_endpoint_auth_method, 'client_secret_basic');
    const secret = client.client_secret ?? '';
    assert.ok(secret.length >= 32);
    const row = stack.store.db
      .prepare('SELECT client_secret, client_secret_hash FROM oauth_clients WHERE client_id = ?')
      .get(client.client_id) as { client_secret: string | null; client_secret_hash: string };
    assert.equal(row.client_secret, null);
    assert.equal(row.client_secret_hash, sha256Hex(secret));
    const metadata = (await (
      await fetch(`${stack.proxyUrl}/.well-known/oauth-authorization-server/oauth/test-oauth`)
    ).json()) as Record<string, string[]>;
    assert.deepEqual(metadata.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
      'none',
    ]);
  });

  test('client_secret_basic and client_secret_post both obtain tokens with the right secret', async () => {
    const client = await register({ token_endpoint_auth_method: 'client_secret_basic' });
    const id = client.client_id ?? '';
    const secret = client.client_secret ?? '';
    const viaBasic = await post('token', await codeFor(id), basic(id, secret));
    assert.equal(viaBasic.status, 200, JSON.stringify(viaBasic.body));
    assert.ok(viaBasic.body.access_token);
    const viaPost = await post('token', {
      grant_type: 'refresh_token',
      refresh_token: viaBasic.body.refresh_token ?? '',
      client_id: id,
      client_secret: secret,
    });
    assert.equal(viaPost.status, 200, JSON.stringify(viaPost.body));
    const revoked = await post(
      'revoke',
      { token: viaPost.body.access_token ?? '' },
      basic(id, secret),
    );
    assert.equal(revoked.status, 200);
  });

  test('a wrong secret is 401 invalid_client, with a Basic challenge only when the header was used', async () => {
    const client = await register({ token_endpoint_auth_method: 'client_secret_post' });
    const id = client.client_id ?? '';
    const wrong = `${client.client_secret ?? ''}x`;
    const viaBody = await post('token', { ...bogusRefresh, client_id: id, client_secret: wrong });
    assert.equal(viaBody.status, 401);
    assert.equal(viaBody.body.error, 'invalid_client');
    assert.equal(viaBody.challenge, null);
    const viaHeader = await post('token', bogusRefresh, basic(id, wrong));
    assert.equal(viaHeader.status, 401);
    assert.equal(viaHeader.body.error, 'invalid_client');
    assert.equal(viaHeader.challenge, `Basic realm="${stack.proxyUrl}/oauth/test-oauth"`);
    const missing = await post('token', { ...bogusRefresh, client_id: id });
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error, 'invalid_client');
    const revoke = await post('revoke', { token: 'x', client_id: id, client_secret: wrong });
    assert.equal(revoke.status, 401);
    assert.equal(revoke.body.error, 'invalid_client');
    // The reason is not told: every failure reads the same.
    assert.equal(viaBody.body.error_description, viaHeader.body.error_description);
    assert.equal(viaBody.body.error_description, missing.body.error_description);
  });

  test('unknown, anonymous and malformed clients are 401 invalid_client', async () => {
    const unknown = await post('token', { ...bogusRefresh, client_id: 'no-such-client' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error, 'invalid_client');
    const anonymous = await post('token', bogusRefresh);
    assert.equal(anonymous.status, 401);
    const malformed = await post('token', bogusRefresh, 'Basic !!!');
    assert.equal(malformed.status, 401);
    assert.match(malformed.challenge ?? '', /^Basic realm=/);
  });

  test('public clients authenticate with none; a public client sending a secret is refused', async () => {
    const client = await register({ token_endpoint_auth_method: 'none' });
    const id = client.client_id ?? '';
    assert.equal(client.client_secret, undefined);
    const ok = await post('token', { ...bogusRefresh, client_id: id });
    assert.equal(ok.status, 400);
    assert.equal(ok.body.error, 'invalid_grant');
    const withSecret = await post('token', { ...bogusRefresh, client_id: id, client_secret: 'x' });
    assert.equal(withSecret.status, 401);
    assert.equal(withSecret.body.error, 'invalid_client');
  });

  test('two authentication methods at once are invalid_request', async () => {
    const client = await register({});
    const id = client.client_id ?? '';
    const secret = client.client_secret ?? '';
    const both = await post(
      'token',
      { ...bogusRefresh, client_id: id, client_secret: secret },
      basic(id, secret),
    );
    assert.equal(both.status, 400);
    assert.equal(both.body.error, 'invalid_request');
  });
});

test('client secrets an earlier version kept sealed are replaced by their hashes on open', () => {
  const temp = tempStore();
  try {
    temp.repo.saveClient({
      clientId: 'legacy',
      workspaceId: 'ws',
      metadata: { token_endpoint_auth_method: 'client_secret_post' },
      createdAt: 0,
    });
    temp.store.db
      .prepare('UPDATE oauth_clients SET client_secret = ? WHERE client_id = ?')
      .run(temp.store.secrets.seal('legacy-secret', 'oauth_clients:legacy'), 'legacy');
    const reopened = new OAuthRepository(temp.store);
    assert.equal(reopened.getClient('legacy')?.clientSecretHash, sha256Hex('legacy-secret'));
    const sealed = temp.store.db
      .prepare('SELECT client_secret FROM oauth_clients WHERE client_id = ?')
      .pluck()
      .get('legacy');
    assert.equal(sealed, null);
  } finally {
    temp.close();
  }
});
