/**
 * Headless Chromium (Debian's, through playwright-core) clicks through the proxy's consent page
 * and the test server's login and consent pages once, as a person would. The consent page's
 * screenshot is kept in artifacts/ for CI.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { chromium } from 'playwright-core';
import { type OAuthStack, startOAuthStack } from './harness';

const CLIENT_REDIRECT = 'http://127.0.0.1:43118/callback';
const artifacts = join(__dirname, '..', '..', '..', 'artifacts');

describe('a real browser through the proxy consent and the upstream login', () => {
  let stack: OAuthStack;
  before(async () => {
    stack = await startOAuthStack({ autoApprove: false });
  });
  after(async () => {
    await stack?.close();
  });

  test('consent, login, upstream consent, back to the client with a code that works', async () => {
    const registration = await fetch(`${stack.proxyUrl}/oauth/test-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Chromium test client',
        redirect_uris: [CLIENT_REDIRECT],
        token_endpoint_auth_method: 'none',
      }),
    });
    const { client_id: clientId } = (await registration.json()) as { client_id: string };
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(`${stack.proxyUrl}/oauth/test-oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'chromium-state',
      resource: stack.mcpUrl,
    }).toString();

    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
    try {
      const page = await browser.newPage();
      let landed: URL | undefined;
      // The client's redirect URI has no server: catch the navigation there.
      await page.route(`${CLIENT_REDIRECT}**`, async (route) => {
        landed = new URL(route.request().url());
        await route.fulfill({ status: 200, contentType: 'text/plain', body: 'done' });
      });
      await page.goto(url.href);
      assert.equal(await page.textContent('#client-name'), 'Chromium test client');
      assert.equal(await page.textContent('#redirect-uri'), CLIENT_REDIRECT);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'proxy-consent.png'), fullPage: true });
      await page.click('#approve');
      await page.fill('#username', 'alice');
      await page.fill('#password', 'alice-pass');
      await page.click('button[type=submit]');
      await page.click('text=Allow');
      await page.waitForURL(`${CLIENT_REDIRECT}**`);
      assert.ok(landed, 'the browser came back to the client');
      assert.equal(landed.searchParams.get('state'), 'chromium-state');
      const response = await fetch(`${stack.proxyUrl}/oauth/test-oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: clientId,
          code: landed.searchParams.get('code') ?? '',
          code_verifier: verifier,
          redirect_uri: CLIENT_REDIRECT,
        }).toString(),
      });
      assert.equal(response.status, 200);
      const tokens = (await response.json()) as { access_token: string };
      assert.match(tokens.access_token, /^mcp_at_/);
    } finally {
      await browser.close();
    }
  });
});
