import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/log';
import { type RunningProxy, startProxy } from '../../src/server';

const specs = resolve(__dirname, '../../../fixtures/specs');
const itemsSpec = readFileSync(join(specs, 'items-3.1.json'), 'utf8');
const SECRET = 'tk_admin-test-secret-0123456789';

describe('admin API', () => {
  let dir: string;
  let proxy: RunningProxy;
  let token: string;

  const start = () =>
    startProxy({ port: 0, dataDir: join(dir, 'data'), logger: silentLogger(), oauth: false });

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }> => {
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${token}`, ...headers },
    };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${proxy.url}/admin${path}`, init);
    const text = await response.text();
    return {
      status: response.status,
      json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      text,
      headers: response.headers,
    };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'proxy-admin-'));
    proxy = await start();
    assert.match(proxy.adminToken ?? '', /^pxa_[A-Za-z0-9_-]{43}$/);
    token = proxy.adminToken ?? '';
  });
  after(async () => {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('no token, a wrong token or another scheme: 401 with a Bearer challenge', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong-token',
      `Basic ${token}`,
      `Bearer ${token}x`,
    ]) {
      const response = await fetch(`${proxy.url}/admin/workspaces`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      assert.equal(response.status, 401, String(authorization));
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="proxy-admin"/);
    }
    assert.equal((await call('GET', '/workspaces')).status, 200);
  });

  test('invalid bodies: 400 naming every field', async () => {
    const response = await call('POST', '/workspaces', {
      id: 'Not Valid',
      spec: 42,
      auth: { type: 'bearer' },
      color: 'red',
    });
    assert.equal(response.status, 400);
    assert.equal(response.json.error, 'invalid_request');
    const fields = (response.json.errors as { field: string }[]).map((e) => e.field).sort();
    assert.deepEqual(fields, ['auth.token', 'color', 'id', 'name', 'spec']);

    const filePath = await call('POST', '/workspaces', { name: 'x', spec: '/etc/passwd' });
    assert.equal(filePath.status, 400);
    assert.match(
      String(filePath.json.message),
      /spec file paths are not accepted over the admin API/,
    );

    const malformed = await call('POST', '/workspaces', '{"name": ');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.error, 'invalid_request');
  });

  test('create, read, update, tools, auth, delete; secrets never come back', async () => {
    const created = await call('POST', '/workspaces', {
      id: 'items',
      name: 'Items',
      spec: { document: JSON.parse(itemsSpec) },
      baseUrl: 'http://localhost:1',
      auth: { type: 'bearer', token: SECRET },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.get('location'), '/admin/workspaces/items');
    assert.deepEqual(created.json.auth, { type: 'bearer', token: '********' });
    assert.match(String(created.json.accessKey), /^mcpk_/);
    assert.equal(created.json.mcpUrl, `${proxy.url}/mcp/items`);
    assert.equal(created.text.includes(SECRET), false);
    const accessKey = String(created.json.accessKey);

    const duplicate = await call('POST', '/workspaces', {
      id: 'items',
      name: 'Again',
      spec: 'https://x.test/o.json',
    });
    assert.equal(duplicate.status, 409);

    const read = await call('GET', '/workspaces/items');
    assert.equal(read.status, 200);
    assert.equal(read.text.includes(SECRET), false);
    assert.equal(read.text.includes(accessKey), false);
    assert.equal(read.json.accessKey, '********');
    assert.deepEqual(read.json.spec, {
      kind: 'document',
      bytes: Buffer.byteLength(JSON.stringify(JSON.parse(itemsSpec), null, 2)),
    });

    const tools = await call('GET', '/workspaces/items/tools');
    assert.equal(tools.status, 200);
    const names = (tools.json.tools as { name: string; enabled: boolean }[])
      .map((t) => t.name)
      .sort();
    assert.deepEqual(names, ['createItem', 'deleteItem', 'getItem', 'listItems', 'listUsers']);
    assert.deepEqual(tools.json.skipped, []);

    const disabled = await call('POST', '/workspaces/items/tools/disable', {
      tools: ['deleteItem'],
    });
    assert.equal(disabled.status, 200);
    const off = (disabled.json.tools as { name: string; enabled: boolean }[]).filter(
      (t) => !t.enabled,
    );
    assert.deepEqual(
      off.map((t) => t.name),
      ['deleteItem'],
    );
    const unknown = await call('POST', '/workspaces/items/tools/enable', { tools: ['nope'] });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.json.message), /no tool named "nope"/);
    const selection = await call('PUT', '/workspaces/items/tools', { enabled: ['listItems'] });
    assert.equal(selection.status, 200);
    assert.deepEqual(
      (selection.json.tools as { name: string; enabled: boolean }[])
        .filter((t) => t.enabled)
        .map((t) => t.name),
      ['listItems'],
    );
    assert.equal(
      (await call('POST', '/workspaces/items/tools/enable', { tools: 'all' })).status,
      200,
    );

    const auth = await call('PUT', '/workspaces/items/auth', {
      type: 'headers',
      headers: { 'X-Tenant-Id': 'test-tenant', 'X-Api-Secret': SECRET },
    });
    assert.equal(auth.status, 200);
    assert.equal(auth.text.includes(SECRET), false);
    assert.deepEqual(proxy.store.workspaces.get('items')?.auth, {
      type: 'headers',
      headers: { 'X-Tenant-Id': 'test-tenant', 'X-Api-Secret': SECRET },
    });
    const badAuth = await call('PUT', '/workspaces/items/auth', {
      type: 'apiKey',
      header: 'bad header',
    });
    assert.equal(badAuth.status, 400);
    assert.deepEqual((badAuth.json.errors as { field: string }[]).map((e) => e.field).sort(), [
      'auth.header',
      'auth.value',
    ]);

    const badSpec = await call('PATCH', '/workspaces/items', {
      name: 'Not applied',
      spec: { document: '{"openapi": "3.1.0", "paths": []}' },
    });
    assert.equal(badSpec.status, 422, badSpec.text);
    assert.equal((await call('GET', '/workspaces/items')).json.name, 'Items');

    const patched = await call('PATCH', '/workspaces/items', { name: 'Items v2', public: true });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.name, 'Items v2');
    assert.equal(patched.json.public, true);

    const rotated = await call('POST', '/workspaces/items/access-key');
    assert.match(String(rotated.json.accessKey), /^mcpk_/);
    assert.notEqual(rotated.json.accessKey, accessKey);

    assert.equal((await call('DELETE', '/workspaces/items')).status, 204);
    assert.equal((await call('GET', '/workspaces/items')).status, 404);
    assert.equal((await call('DELETE', '/workspaces/items')).status, 404);
  });

  test('spec upload: YAML or JSON body; an unusable one is 422 with its pointer', async () => {
    assert.equal(
      (
        await call('POST', '/workspaces', {
          id: 'upload',
          name: 'Upload',
          spec: 'https://example.test/openapi.json',
        })
      ).status,
      201,
    );
    const yaml = readFileSync(join(specs, 'petstore-3.0.yaml'), 'utf8');
    const uploaded = await call('PUT', '/workspaces/upload/spec', yaml, {
      'content-type': 'application/yaml',
    });
    assert.equal(uploaded.status, 200, uploaded.text);
    assert.ok(Number(uploaded.json.tools) > 0);

    const json = await call('PUT', '/workspaces/upload/spec', itemsSpec);
    assert.equal(json.status, 200, json.text);
    assert.equal(json.json.tools, 5);

    const bad = await call(
      'PUT',
      '/workspaces/upload/spec',
      readFileSync(join(specs, 'bad/paths-array.json'), 'utf8'),
    );
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.json.error, 'invalid_spec');
    assert.equal(typeof bad.json.pointer, 'string');
    assert.equal(
      ((await call('GET', '/workspaces/upload/tools')).json.tools as unknown[]).length,
      5,
    );
  });

  test('what the admin API creates survives a restart; the admin token is not shown again', async () => {
    const created = await call('POST', '/workspaces', {
      id: 'durable',
      name: 'Durable',
      spec: { document: itemsSpec },
      auth: { type: 'apiKey', value: SECRET },
    });
    assert.equal(created.status, 201);
    await call('POST', '/workspaces/durable/tools/disable', { tools: ['listUsers'] });
    await proxy.close();

    proxy = await start();
    assert.equal(proxy.adminToken, undefined, 'a generated admin token is shown only once');
    const read = await call('GET', '/workspaces/durable');
    assert.equal(read.status, 200, 'the old admin token still works');
    assert.equal(read.json.name, 'Durable');
    assert.deepEqual(read.json.tools, { enabled: 'all', disabled: ['listUsers'] });
    assert.deepEqual(proxy.store.workspaces.get('durable')?.auth, {
      type: 'apiKey',
      value: SECRET,
    });
    assert.equal(proxy.store.workspaces.get('durable')?.accessKey, created.json.accessKey);
  });
});

describe('admin token from PROXY_ADMIN_TOKEN', () => {
  test('is used as given, never generated; a short one is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-admin-env-'));
    try {
      const adminToken = 'env-admin-token-0123456789';
      const proxy = await startProxy({
        port: 0,
        dataDir: join(dir, 'data'),
        adminToken,
        logger: silentLogger(),
        oauth: false,
      });
      try {
        assert.equal(proxy.adminToken, undefined);
        const ok = await fetch(`${proxy.url}/admin/workspaces`, {
          headers: { authorization: `Bearer ${adminToken}` },
        });
        assert.equal(ok.status, 200);
      } finally {
        await proxy.close();
      }
      await assert.rejects(
        startProxy({
          port: 0,
          dataDir: join(dir, 'data'),
          adminToken: 'short',
          logger: silentLogger(),
          oauth: false,
        }),
        { code: 'ERR_ADMIN_TOKEN_INVALID' },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
