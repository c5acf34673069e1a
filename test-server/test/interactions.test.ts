import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningTestServer } from '../src/server';
import {
  authorizeInBrowser,
  authorizeUrl,
  Browser,
  CALLBACK,
  formAction,
  hiddenInput,
  jwtPayload,
  type Page,
  pkcePair,
  start,
  tokenRequest,
} from './support';

async function loginPage(server: RunningTestServer, browser: Browser, state = 'st'): Promise<Page> {
  const { challenge } = pkcePair();
  const step = await browser.navigate(
    authorizeUrl(server, {
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      scope: 'items:read users:read',
    }),
  );
  assert.ok('page' in step, 'a login page');
  return step.page;
}

describe('login and consent pages', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await start();
  });
  after(() => server.close());

  test('the login page lists the test users, loads nothing external and cannot be framed', async () => {
    const page = await loginPage(server, new Browser(server.url));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(page.html, /alice/);
    assert.match(page.html, /bob-pass/);
    assert.doesNotMatch(page.html, /(src|href)="?https?:/, 'no external assets');
    assert.doesNotMatch(page.html, /<script/);
  });

  test('a wrong password shows the form again with an error', async () => {
    const browser = new Browser(server.url);
    const page = await loginPage(server, browser);
    const step = await browser.navigate(formAction(page.html, '/login'), {
      form: { csrf: hiddenInput(page.html, 'csrf'), username: 'alice', password: 'wrong' },
    });
    assert.ok('page' in step);
    assert.equal(step.page.status, 401);
    assert.match(step.page.html, /Wrong username or password/);
    const retry = await browser.navigate(formAction(step.page.html, '/login'), {
      form: {
        csrf: hiddenInput(step.page.html, 'csrf'),
        username: 'alice',
        password: 'alice-pass',
      },
    });
    assert.ok('page' in retry);
    assert.match(retry.page.html, /Authorize access/);
    assert.match(retry.page.html, /items:read/);
    assert.match(retry.page.html, new RegExp(CALLBACK));
  });

  test('a missing or wrong CSRF token is refused', async () => {
    const browser = new Browser(server.url);
    const page = await loginPage(server, browser);
    for (const csrf of [undefined, 'forged']) {
      const form: Record<string, string> = { username: 'alice', password: 'alice-pass' };
      if (csrf) form.csrf = csrf;
      const res = await browser.request(formAction(page.html, '/login'), { form });
      assert.equal(res.status, 403, String(csrf));
    }
  });

  test('the interaction is bound to the browser that started it', async () => {
    const page = await loginPage(server, new Browser(server.url));
    const stranger = new Browser(server.url);
    const res = await stranger.request(formAction(page.html, '/login'), {
      form: { csrf: hiddenInput(page.html, 'csrf'), username: 'alice', password: 'alice-pass' },
    });
    assert.ok(res.status >= 400, `status ${res.status}`);
  });

  test('denying consent sends access_denied with state and iss to the client', async () => {
    const browser = new Browser(server.url);
    const page = await loginPage(server, browser, 'deny-state');
    const consent = await browser.navigate(formAction(page.html, '/login'), {
      form: { csrf: hiddenInput(page.html, 'csrf'), username: 'alice', password: 'alice-pass' },
    });
    assert.ok('page' in consent);
    const denied = await browser.navigate(formAction(consent.page.html, '/abort'), {
      form: { csrf: hiddenInput(consent.page.html, 'csrf') },
    });
    assert.ok('redirect' in denied);
    assert.equal(denied.redirect.searchParams.get('error'), 'access_denied');
    assert.equal(denied.redirect.searchParams.get('state'), 'deny-state');
    assert.equal(denied.redirect.searchParams.get('iss'), server.issuer);
  });

  test('bob can log in too; the token names him', async () => {
    const { verifier, challenge } = pkcePair();
    const callback = await authorizeInBrowser(
      server,
      { code_challenge: challenge, code_challenge_method: 'S256' },
      { username: 'bob', password: 'bob-pass' },
    );
    const { body } = await tokenRequest(server, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: CALLBACK,
      code_verifier: verifier,
    });
    assert.equal(jwtPayload(String(body.access_token)).sub, 'bob');
  });

  test('a second authorization in the same browser skips login and consent', async () => {
    const browser = new Browser(server.url);
    const first = pkcePair();
    await authorizeInBrowser(
      server,
      { code_challenge: first.challenge, code_challenge_method: 'S256' },
      undefined,
      browser,
    );
    const second = pkcePair();
    const step = await browser.navigate(
      authorizeUrl(server, { code_challenge: second.challenge, code_challenge_method: 'S256' }),
    );
    assert.ok('redirect' in step, 'straight back with a code');
    assert.ok(step.redirect.searchParams.get('code'));
  });
});
