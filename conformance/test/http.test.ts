/** The harness's browser parts: cookie jar, form reader, and a user agent through login + consent with CSRF. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { CookieJar } from '../src/http/cookie-jar';
import { parseForms } from '../src/http/forms';
import { UserAgent } from '../src/http/user-agent';

describe('CookieJar', () => {
  test('scopes cookies by host and path, and honours deletion', () => {
    const jar = new CookieJar();
    const url = new URL('http://localhost:1/auth/authorize/abc');
    jar.store(
      url,
      new Headers([
        ['set-cookie', 'resume=1; path=/auth/authorize/abc; httponly'],
        ['set-cookie', 'session=s; Path=/'],
      ]),
    );
    assert.equal(jar.header(url), 'resume=1; session=s');
    assert.equal(jar.header(new URL('http://localhost:1/interaction/x')), 'session=s');
    assert.equal(
      jar.header(new URL('http://127.0.0.1:1/')),
      undefined,
      'another host name is another site',
    );
    jar.store(
      url,
      new Headers([
        ['set-cookie', 'resume=; path=/auth/authorize/abc; expires=Thu, 01 Jan 1970 00:00:00 GMT'],
      ]),
    );
    assert.equal(jar.header(url), 'session=s');
  });
});

describe('parseForms', () => {
  test('reads action, method, hidden fields, checked boxes and submit buttons; decodes entities', () => {
    const [form] = parseForms(
      `<form method="post" action="/consent?a=1&amp;b=2"><input type="hidden" name="csrf" value="t&#x2F;k"><input type="checkbox" name="remember" value="1"><input type=checkbox name="scope" value="items:read" checked><textarea name="note">hi &lt;3</textarea><button type="submit" name="decision" value="approve">Allow</button><button type="button">Help</button></form>`,
    );
    assert.ok(form);
    assert.equal(form.method, 'POST');
    assert.equal(form.action, '/consent?a=1&b=2');
    assert.deepEqual(
      form.fields.map((f) => [f.name, f.value]),
      [
        ['csrf', 't/k'],
        ['scope', 'items:read'],
        ['note', 'hi <3'],
      ],
    );
    assert.deepEqual(form.buttons, [{ name: 'decision', value: 'approve', label: 'Allow' }]);
  });
});

describe('UserAgent', () => {
  test('logs in, approves consent with the CSRF field and stops at the redirect URI without fetching it', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        if (req.url === '/start') {
          res.writeHead(302, { location: '/login', 'set-cookie': 'sid=1; Path=/' });
          return res.end();
        }
        if (req.url === '/login' && req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/html' });
          return res.end(
            '<form method="post"><input name="username"><input type="password" name="password"><button>Sign in</button></form><form action="/abort" method="post"><button>Cancel</button></form>',
          );
        }
        if (req.url === '/login') {
          const ok =
            form.get('username') === 'alice' &&
            form.get('password') === 'alice-pass' &&
            req.headers.cookie === 'sid=1';
          res.writeHead(ok ? 302 : 401, ok ? { location: '/consent' } : {});
          return res.end();
        }
        if (req.url === '/consent' && req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/html' });
          return res.end(
            '<form method="post"><input type="hidden" name="csrf" value="c1"><button name="d" value="no">Deny</button><button name="d" value="yes">Approve</button></form>',
          );
        }
        if (req.url === '/consent') {
          const ok = form.get('csrf') === 'c1';
          res.writeHead(302, {
            location: `http://127.0.0.1:9/cb?${ok ? `code=${form.get('d')}` : 'error=csrf'}`,
          });
          return res.end();
        }
        res.writeHead(404);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const approve = await new UserAgent({ username: 'alice', password: 'alice-pass' }).navigate(
        `${base}/start`,
        (u) => u.port === '9',
      );
      assert.equal(approve.kind, 'stopped');
      assert.equal(approve.url.href, 'http://127.0.0.1:9/cb?code=yes');
      assert.deepEqual(seen, [
        'GET /start',
        'GET /login',
        'POST /login',
        'GET /consent',
        'POST /consent',
      ]);
      const deny = await new UserAgent({
        username: 'alice',
        password: 'alice-pass',
        decision: 'deny',
      }).navigate(`${base}/consent`, (u) => u.port === '9');
      assert.equal(deny.kind === 'stopped' && deny.url.search, '?code=no');
    } finally {
      server.close();
    }
  });
});
