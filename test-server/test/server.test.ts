import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ListenError, startTestServer } from '../src/server';
import { start } from './support';

test('startTestServer returns what the contract promises', async () => {
  const server = await start({ mode: 'oauth' });
  try {
    assert.equal(server.url, `http://localhost:${server.port}`);
    assert.equal(server.issuer, server.url);
    assert.equal(server.apiUrl, `${server.url}/api`);
    assert.equal(server.clientId, 'test-client-id');
    assert.match(server.clientSecret, /^cs_[A-Za-z0-9_-]{32,}$/);
    assert.match(server.controlToken, /^ctl_/);
    assert.deepEqual(server.users, [
      { username: 'alice', password: 'alice-pass' },
      { username: 'bob', password: 'bob-pass' },
    ]);
  } finally {
    await server.close();
  }
});

test('both localhost and 127.0.0.1 reach it, and close() frees the port', async () => {
  const server = await start({ mode: 'none' });
  for (const host of ['127.0.0.1', 'localhost']) {
    const res = await fetch(`http://${host}:${server.port}/api/items`);
    assert.equal(res.status, 200, host);
  }
  await server.close();
  await assert.rejects(fetch(`http://127.0.0.1:${server.port}/api/items`));
  const again = await start({ mode: 'none', port: server.port });
  await again.close();
});

test('a port in use is a ListenError with code EADDRINUSE', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const address = blocker.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    await assert.rejects(startTestServer({ port, quiet: true }), (err: unknown) => {
      assert.ok(err instanceof ListenError);
      assert.equal(err.code, 'EADDRINUSE');
      assert.equal(err.message, `port ${port} is already in use`);
      return true;
    });
  } finally {
    blocker.close();
  }
});

test('impossible options are a TypeError naming the option', async () => {
  await assert.rejects(startTestServer({ port: 70000 }), /port must be an integer from 0 to 65535/);
  await assert.rejects(startTestServer({ port: 0, accessTokenTtl: 0 }), /access token TTL/);
  await assert.rejects(
    startTestServer({ port: 0, redirectUris: ['relative/path'] }),
    /redirect URI "relative\/path"/,
  );
});

test('static modes expose their API secret with the mode prefix', async () => {
  for (const [mode, prefix] of [
    ['bearer', 'tk_'],
    ['apikey', 'ak_'],
    ['headers', 'hs_'],
  ] as const) {
    const server = await start({ mode });
    await server.close();
    assert.ok(server.apiSecret.startsWith(prefix), mode);
  }
});
