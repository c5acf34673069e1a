/** A proxy access token obtained the way an MCP client does: DCR, /authorize, consent, /token. */
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import type { OAuthStack } from './harness';
import { UserAgent } from './user-agent';

const CLIENT_REDIRECT = 'http://127.0.0.1:43118/callback';

/** A proxy access token for `scope`, through registration, /authorize (consent) and /token. */
export async function proxyToken(stack: OAuthStack, scope: string): Promise<string> {
  const registered = await fetch(`${stack.proxyUrl}/oauth/test-oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Scope test client',
      redirect_uris: [CLIENT_REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  const clientId = ((await registered.json()) as { client_id: string }).client_id;
  const verifier = oauth.generateRandomCodeVerifier();
  const url = new URL(`${stack.proxyUrl}/oauth/test-oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'client-state',
    resource: stack.mcpUrl,
    scope,
  }).toString();
  const back = await new UserAgent().run(url, (u) => u.href.startsWith(CLIENT_REDIRECT));
  const response = await fetch(`${stack.proxyUrl}/oauth/test-oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code: back.searchParams.get('code') ?? '',
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
      resource: stack.mcpUrl,
    }).toString(),
  });
  const tokens = (await response.json()) as { access_token: string; scope: string };
  assert.equal(response.status, 200);
  assert.equal(tokens.scope, scope);
  return tokens.access_token;
}
