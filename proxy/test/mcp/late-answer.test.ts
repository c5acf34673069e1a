import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { replaceAnswerWhen } from '../../src/mcp/late-answer';

describe('replaceAnswerWhen', () => {
  let server: ReturnType<ReturnType<typeof express>['listen']>;
  let base: string;
  before(async () => {
    const app = express();
    // A stand-in for the transport: writes head and body itself, like @hono/node-server does.
    app.get('/:when', (req, res) => {
      const state = { replace: false };
      replaceAnswerWhen(
        res,
        () => state.replace,
        (r) => {
          r.status(401).set('WWW-Authenticate', 'Bearer error="invalid_token"').json({ e: 1 });
        },
      );
      if (req.params.when === 'before') state.replace = true;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
      if (req.params.when === 'after') state.replace = true;
      res.write('{"ok":');
      res.end('true}');
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  test('decided before the status line: the other answer replaces head and body', async () => {
    const response = await fetch(`${base}/before`);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.deepEqual(await response.json(), { e: 1 });
  });

  test('decided later, or never: the original answer stands', async () => {
    for (const when of ['after', 'never']) {
      const response = await fetch(`${base}/${when}`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { ok: true });
    }
  });
});
