import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { defaultAllowedHosts, hostOriginGuard } from '../../src/mcp/request-guard';

/** fetch() cannot set Host, so raw node:http it is. */
function status(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hostOriginGuard', () => {
  let port = 0;
  let close: () => void = () => {};
  before(async () => {
    const app = express();
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
    app.use(hostOriginGuard({ allowedHosts: [...defaultAllowedHosts(port), 'mcp.example.com'] }));
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    close = () => server.close();
  });
  after(() => close());

  test('loopback names with the port pass, with or without a matching Origin', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      assert.equal(await status(port, { host }), 200, host);
      assert.equal(await status(port, { host, origin: `http://${host}` }), 200, host);
    }
  });

  test('a host entry without a port matches that name on any port', async () => {
    assert.equal(await status(port, { host: 'mcp.example.com' }), 200);
    assert.equal(await status(port, { host: 'mcp.example.com:443' }), 200);
  });

  test('a rebound name, another port or a foreign Origin: 403', async () => {
    assert.equal(await status(port, { host: 'attacker.example' }), 403);
    assert.equal(await status(port, { host: `localhost:${port + 1}` }), 403);
    assert.equal(await status(port, { host: `localhost.attacker.example:${port}` }), 403);
    assert.equal(
      await status(port, { host: `localhost:${port}`, origin: 'http://attacker.example' }),
      403,
    );
    assert.equal(await status(port, { host: `localhost:${port}`, origin: 'null' }), 403);
  });

  test('an empty allow list is a configuration error', () => {
    assert.throws(() => hostOriginGuard({ allowedHosts: [] }), { code: 'ERR_INVALID_ARG_VALUE' });
  });
});
