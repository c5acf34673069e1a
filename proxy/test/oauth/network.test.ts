import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { guardedFetch } from '../../src/oauth/network';

describe('guardedFetch (upstream OAuth endpoints)', () => {
  test('refuses private and reserved addresses unless allowed; loopback is allowed', async () => {
    const guarded = guardedFetch();
    for (const url of [
      'http://10.1.2.3/token',
      'http://169.254.169.254/latest',
      'http://[fd00::1]/t',
    ]) {
      await assert.rejects(guarded(url), { code: 'ERR_FORBIDDEN_ADDRESS' }, url);
    }
    await assert.rejects(guardedFetch({ allowLoopback: false })('http://127.0.0.1:8999/x'), {
      code: 'ERR_FORBIDDEN_ADDRESS',
    });
    await assert.rejects(
      guardedFetch({ allowLoopback: false })('http://localhost:8999/x'),
      (error: unknown) =>
        String((error as { cause?: unknown }).cause ?? error).includes('loopback'),
    );
  });

  test('follows no redirect and caps the body', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://10.0.0.1/' }).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ big: 'x'.repeat(2048) }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const redirected = await guardedFetch()(`${base}/redirect`);
      assert.equal(redirected.status, 302);
      const ok = await guardedFetch()(`${base}/json`);
      assert.equal(((await ok.json()) as { big: string }).big.length, 2048);
      await assert.rejects(guardedFetch({ maxBytes: 1000 })(`${base}/json`), {
        code: 'ERR_RESPONSE_TOO_LARGE',
      });
    } finally {
      server.close();
    }
  });
});
