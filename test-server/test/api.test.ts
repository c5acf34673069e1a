import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningTestServer } from '../src/server';
import { api, start, tokenRequest } from './support';

async function tokenWith(
  server: RunningTestServer,
  scope: string,
): Promise<Record<string, string>> {
  const { body } = await tokenRequest(server, { grant_type: 'client_credentials', scope });
  return { authorization: `Bearer ${body.access_token}` };
}

describe('demo API in oauth mode', () => {
  let server: RunningTestServer;
  let full: Record<string, string>;
  before(async () => {
    server = await start();
    full = await tokenWith(server, 'items:read items:write users:read');
  });
  after(() => server.close());

  test('no token: 401 with a Bearer challenge naming the resource metadata and the scope', async () => {
    const { status, headers, body } = await api(server, 'GET', '/api/items');
    assert.equal(status, 401);
    const challenge = headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.ok(
      challenge.includes(
        `resource_metadata="${server.url}/.well-known/oauth-protected-resource/api"`,
      ),
      challenge,
    );
    assert.match(challenge, /scope="items:read"/);
    assert.equal(body.error, 'invalid_token');
  });

  test('a forged or garbled token: 401 invalid_token', async () => {
    const { body } = await tokenRequest(server, { grant_type: 'client_credentials' });
    const [h, p] = String(body.access_token).split('.');
    for (const token of [`${h}.${p}.${'A'.repeat(342)}`, 'not-a-token', 'bad token with spaces']) {
      const res = await api(server, 'GET', '/api/items', { authorization: `Bearer ${token}` });
      assert.equal(res.status, 401, token.slice(0, 20));
      assert.equal(res.body.error, 'invalid_token');
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
  });

  test('a token without the needed scope: 403 insufficient_scope naming the scope', async () => {
    const readOnly = await tokenWith(server, 'items:read');
    assert.equal((await api(server, 'GET', '/api/items', readOnly)).status, 200);
    const create = await api(server, 'POST', '/api/items', readOnly, { name: 'x' });
    assert.equal(create.status, 403);
    assert.equal(create.body.error, 'insufficient_scope');
    assert.equal(create.body.scope, 'items:write');
    assert.match(
      create.headers.get('www-authenticate') ?? '',
      /error="insufficient_scope".*scope="items:write"/,
    );
    const users = await api(server, 'GET', '/api/users', readOnly);
    assert.equal(users.status, 403);
    assert.equal(users.body.scope, 'users:read');
  });

  test('create, read, list, delete an item; unknown ids are 404', async () => {
    const created = await api(server, 'POST', '/api/items', full, {
      name: 'Stapler',
      description: 'Red',
      tags: ['office'],
    });
    assert.equal(created.status, 201);
    const id = String(created.body.id);
    assert.equal(created.headers.get('location'), `${server.apiUrl}/items/${id}`);
    const got = await api(server, 'GET', `/api/items/${id}`, full);
    assert.deepEqual(got.body, created.body);
    const list = await api(server, 'GET', '/api/items?tag=office', full);
    assert.ok((list.body.items as Array<{ id: string }>).some((i) => i.id === id));
    const deleted = await api(server, 'DELETE', `/api/items/${id}`, full);
    assert.deepEqual(deleted.body, { id, deleted: true });
    const gone = await api(server, 'GET', `/api/items/${id}`, full);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error, 'not_found');
    assert.equal((await api(server, 'DELETE', `/api/items/${id}`, full)).status, 404);
  });

  test('seeded from fixtures: three items and the two test users', async () => {
    const items = await api(server, 'GET', '/api/items?limit=2', full);
    assert.equal((items.body.items as unknown[]).length, 2);
    const users = await api(server, 'GET', '/api/users', full);
    assert.deepEqual(
      (users.body.users as Array<{ username: string }>).map((u) => u.username),
      ['alice', 'bob'],
    );
  });

  test('invalid input: 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 3 }, 'name'],
      [{ name: 'a', description: 1 }, 'description'],
      [{ name: 'a', tags: 'x' }, 'tags'],
      [{ name: 'a', tags: [1] }, 'tags'],
      [{ name: 'a', colour: 'red' }, 'colour'],
      [[], 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await api(server, 'POST', '/api/items', full, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.field, field, JSON.stringify(body));
      assert.match(
        String(res.body.error_description),
        new RegExp(field === 'body' ? 'object' : field),
      );
    }
    const bad = await fetch(`${server.url}/api/items`, {
      method: 'POST',
      headers: { ...full, 'content-type': 'application/json' },
      body: '{"name":',
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { field: string }).field, 'body');
    const limit = await api(server, 'GET', '/api/items?limit=0', full);
    assert.equal(limit.status, 400);
    assert.equal(limit.body.field, 'limit');
  });

  test('an unknown API path is 404', async () => {
    assert.equal((await api(server, 'GET', '/api/nothing', full)).status, 404);
  });
});

describe('demo API in the static credential modes', () => {
  test('bearer: the banner token works, others get 401', async () => {
    const server = await start({ mode: 'bearer' });
    try {
      assert.match(server.apiSecret, /^tk_/);
      assert.equal(
        (await api(server, 'GET', '/api/items', { authorization: `Bearer ${server.apiSecret}` }))
          .status,
        200,
      );
      const wrong = await api(server, 'GET', '/api/items', { authorization: 'Bearer nope' });
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.equal((await api(server, 'GET', '/api/items')).status, 401);
      assert.equal(
        (await api(server, 'GET', '/.well-known/oauth-authorization-server')).status,
        404,
      );
    } finally {
      await server.close();
    }
  });

  test('apikey: X-Api-Key with the banner key', async () => {
    const server = await start({ mode: 'apikey', apiSecret: 'ak_fixed' });
    try {
      assert.equal(
        (await api(server, 'GET', '/api/users', { 'x-api-key': 'ak_fixed' })).status,
        200,
      );
      const wrong = await api(server, 'GET', '/api/users', { 'x-api-key': 'ak_other' });
      assert.equal(wrong.status, 401);
      assert.match(String(wrong.body.error_description), /X-Api-Key/);
      assert.equal(
        (await api(server, 'GET', '/api/users', { authorization: 'Bearer ak_fixed' })).status,
        401,
      );
    } finally {
      await server.close();
    }
  });

  test('headers: both X-Tenant-Id and X-Api-Secret are needed', async () => {
    const server = await start({ mode: 'headers' });
    try {
      const both = { 'x-tenant-id': 'test-tenant', 'x-api-secret': server.apiSecret };
      assert.equal((await api(server, 'GET', '/api/items', both)).status, 200);
      assert.equal(
        (await api(server, 'GET', '/api/items', { 'x-api-secret': server.apiSecret })).status,
        401,
      );
      assert.equal(
        (await api(server, 'GET', '/api/items', { ...both, 'x-tenant-id': 'other' })).status,
        401,
      );
      assert.equal(
        (await api(server, 'GET', '/api/items', { ...both, 'x-api-secret': 'hs_no' })).status,
        401,
      );
    } finally {
      await server.close();
    }
  });

  test('none: the API is open', async () => {
    const server = await start({ mode: 'none' });
    try {
      assert.equal((await api(server, 'GET', '/api/items')).status, 200);
      assert.equal((await api(server, 'POST', '/api/items', {}, { name: 'open' })).status, 201);
    } finally {
      await server.close();
    }
  });
});
