import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { accessKeyAuthorizer } from '../../src/mcp/access-key';
import type { Workspace } from '../../src/types';

function workspace(overrides: Partial<Workspace>): Workspace {
  return {
    id: 'ws',
    name: 'ws',
    spec: { kind: 'url', url: 'http://localhost/openapi.json' },
    auth: { type: 'none' },
    tools: { enabled: 'all', disabled: [] },
    public: false,
    accessKey: 'mk_secret-key.1',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

describe('accessKeyAuthorizer', () => {
  const workspaces: Record<string, Workspace> = {
    private: workspace({}),
    public: workspace({ public: true, accessKey: undefined }),
    keyless: workspace({ accessKey: undefined }),
    oauth: workspace({
      public: true,
      auth: {
        type: 'oauth2',
        provider: 'custom',
        grant: 'authorization_code',
        scopes: [],
        pkce: true,
        state: true,
      },
    }),
  };
  let base = '';
  let close: () => void = () => {};

  before(async () => {
    const authorize = accessKeyAuthorizer({ realm: 'mcp-proxy' });
    const app = express();
    app.get('/:ws', async (req, res) => {
      const ws = workspaces[String(req.params.ws)];
      if (!ws) throw new Error('unknown');
      const grant = await authorize(req, res, ws);
      if (grant) res.json({ allowed: true, grant });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  after(() => close());

  async function get(path: string, authorization?: string) {
    const res = await fetch(`${base}${path}`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    return {
      status: res.status,
      challenge: res.headers.get('www-authenticate'),
      body: await res.json(),
    };
  }

  test('the right key is accepted, scheme case-insensitively', async () => {
    assert.equal((await get('/private', 'Bearer mk_secret-key.1')).status, 200);
    assert.equal((await get('/private', 'bearer mk_secret-key.1')).status, 200);
  });

  test('no key: 401 with a bare Bearer challenge', async () => {
    const res = await get('/private');
    assert.equal(res.status, 401);
    assert.equal(res.challenge, 'Bearer realm="mcp-proxy"');
    assert.deepEqual(res.body, {
      error: 'invalid_token',
      error_description: 'A valid access key is required',
    });
  });

  test('a wrong, malformed or differently-schemed key: 401 invalid_token', async () => {
    for (const header of [
      'Bearer mk_secret-key.2',
      'Bearer mk_secret-key.1x',
      'Bearer mk secret',
      'Bearer mk_secret-key.1,x',
      'Basic bWs6c2VjcmV0',
      'mk_secret-key.1',
      'Bearer ',
    ]) {
      const res = await get('/private', header);
      assert.equal(res.status, 401, header);
      assert.equal(res.challenge, 'Bearer realm="mcp-proxy", error="invalid_token"', header);
    }
  });

  test('a public workspace needs no key', async () => {
    assert.equal((await get('/public')).status, 200);
  });

  test('fails closed: no access key configured, or an OAuth workspace', async () => {
    assert.equal((await get('/keyless')).status, 401);
    assert.equal((await get('/keyless', 'Bearer undefined')).status, 401);
    assert.equal((await get('/oauth')).status, 401);
    assert.equal((await get('/oauth', 'Bearer mk_secret-key.1')).status, 401);
  });
});
