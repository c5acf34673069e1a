import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openStore, SecretBox, StoreError } from '../../src/store';
import type { Workspace } from '../../src/types';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-store-'));
  dirs.push(dir);
  return join(dir, 'data');
}

function workspace(id: string, auth: Workspace['auth'], accessKey?: string): Workspace {
  const now = new Date().toISOString();
  return {
    id,
    name: `Workspace ${id}`,
    spec: { kind: 'url', url: 'http://localhost:3456/openapi.json' },
    auth,
    tools: { enabled: 'all', disabled: [] },
    public: false,
    ...(accessKey === undefined ? {} : { accessKey }),
    createdAt: now,
    updatedAt: now,
  };
}

const SECRETS = {
  bearer: 'tk_bearer-secret-0123456789',
  apiKey: 'ak_apikey-secret-0123456789',
  header: 'hs_header-secret-0123456789',
  clientSecret: 'cs_client-secret-0123456789',
  initialAccessToken: 'iat_registration-0123456789',
  accessKey: 'mcp_access-key-0123456789',
};

function seed(store: ReturnType<typeof openStore>): void {
  store.workspaces.create(workspace('bearer', { type: 'bearer', token: SECRETS.bearer }));
  store.workspaces.create(
    workspace('apikey', { type: 'apiKey', value: SECRETS.apiKey }, SECRETS.accessKey),
  );
  store.workspaces.create(
    workspace('headers', {
      type: 'headers',
      headers: { 'X-Tenant-Id': 'test-tenant', 'X-Api-Secret': SECRETS.header },
    }),
  );
  store.workspaces.create(
    workspace('oauth', {
      type: 'oauth2',
      provider: 'dcr',
      grant: 'authorization_code',
      registrationUrl: 'http://localhost:3456/auth/register',
      clientId: 'test-client-id',
      clientSecret: SECRETS.clientSecret,
      initialAccessToken: SECRETS.initialAccessToken,
      scopes: ['items:read'],
      pkce: true,
      state: true,
    }),
  );
}

function rawBytesOf(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((name) => readFileSync(join(dir, name))));
}

describe('store', () => {
  test('a dump of the data dir holds no secret in clear, and every secret reads back', () => {
    const dataDir = tempDataDir();
    const store = openStore({ dataDir });
    seed(store);
    // Before closing, the WAL file holds the recent writes: check it too.
    const whileOpen = rawBytesOf(dataDir);
    store.close();
    const afterClose = rawBytesOf(dataDir);
    for (const [name, secret] of Object.entries(SECRETS)) {
      const needles = {
        utf8: Buffer.from(secret, 'utf8'),
        utf16le: Buffer.from(secret, 'utf16le'),
        base64: Buffer.from(Buffer.from(secret).toString('base64')),
      };
      for (const [encoding, needle] of Object.entries(needles)) {
        assert.equal(
          whileOpen.includes(needle),
          false,
          `${name} in clear (${encoding}) while open`,
        );
        assert.equal(
          afterClose.includes(needle),
          false,
          `${name} in clear (${encoding}) after close`,
        );
      }
    }
    // Non-secret fields are stored readable, so the dump check above is not vacuous.
    assert.ok(
      afterClose.includes(Buffer.from('test-tenant')) ||
        whileOpen.includes(Buffer.from('X-Tenant-Id')),
    );

    const reopened = openStore({ dataDir });
    try {
      const headers = reopened.workspaces.get('headers');
      assert.deepEqual(headers?.auth, {
        type: 'headers',
        headers: { 'X-Tenant-Id': 'test-tenant', 'X-Api-Secret': SECRETS.header },
      });
      assert.equal(reopened.workspaces.get('apikey')?.accessKey, SECRETS.accessKey);
      const oauth = reopened.workspaces.get('oauth')?.auth;
      assert.equal(oauth?.type === 'oauth2' && oauth.clientSecret, SECRETS.clientSecret);
      assert.equal(
        oauth?.type === 'oauth2' && oauth.initialAccessToken,
        SECRETS.initialAccessToken,
      );
      assert.deepEqual(
        reopened.workspaces.list().map((w) => w.id),
        ['apikey', 'bearer', 'headers', 'oauth'],
      );
    } finally {
      reopened.close();
    }
  });

  test('creates the data dir 0700 and the key file 0600', {
    skip: process.platform === 'win32',
  }, () => {
    const dataDir = tempDataDir();
    const store = openStore({ dataDir });
    store.close();
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dataDir, 'encryption.key')).mode & 0o777, 0o600);
    assert.equal(store.keySource, 'key file (created)');
  });

  test('refuses a key file others can read, naming the file and the fix', {
    skip: process.platform === 'win32',
  }, () => {
    const dataDir = tempDataDir();
    openStore({ dataDir }).close();
    const keyFile = join(dataDir, 'encryption.key');
    chmodSync(keyFile, 0o644);
    assert.throws(
      () => openStore({ dataDir }),
      (error: unknown) =>
        error instanceof StoreError &&
        error.code === 'ERR_ENCRYPTION_KEY_FILE_PERMISSIONS' &&
        error.message.includes(keyFile) &&
        error.message.includes('chmod 600'),
    );
  });

  test('a malformed PROXY_ENCRYPTION_KEY is a clear error that does not repeat the value', () => {
    for (const bad of ['short', 'zz'.repeat(32), Buffer.alloc(16).toString('base64')]) {
      assert.throws(
        () => openStore({ dataDir: tempDataDir(), encryptionKey: bad }),
        (error: unknown) =>
          error instanceof StoreError &&
          error.code === 'ERR_ENCRYPTION_KEY_INVALID' &&
          error.message.includes('PROXY_ENCRYPTION_KEY') &&
          !error.message.includes(bad),
      );
    }
  });

  test('accepts hex and base64 keys; another key on the same data dir is refused', () => {
    const dataDir = tempDataDir();
    const key = Buffer.alloc(32, 7);
    const store = openStore({ dataDir, encryptionKey: key.toString('hex') });
    assert.equal(store.keySource, 'environment');
    store.workspaces.create(workspace('bearer', { type: 'bearer', token: SECRETS.bearer }));
    store.close();

    const sameKey = openStore({ dataDir, encryptionKey: key.toString('base64') });
    assert.deepEqual(sameKey.workspaces.get('bearer')?.auth, {
      type: 'bearer',
      token: SECRETS.bearer,
    });
    sameKey.close();

    assert.throws(
      () => openStore({ dataDir, encryptionKey: Buffer.alloc(32, 8).toString('base64') }),
      (error: unknown) =>
        error instanceof StoreError && error.code === 'ERR_ENCRYPTION_KEY_MISMATCH',
    );
  });

  test('create refuses a taken id, update a missing one; delete reports what it did', () => {
    const store = openStore({ dataDir: tempDataDir() });
    try {
      const ws = workspace('one', { type: 'none' });
      store.workspaces.create(ws);
      assert.throws(() => store.workspaces.create(ws), { code: 'ERR_WORKSPACE_EXISTS' });
      assert.throws(() => store.workspaces.update(workspace('two', { type: 'none' })), {
        code: 'ERR_WORKSPACE_NOT_FOUND',
      });
      const renamed = store.workspaces.modify('one', (current) => ({
        ...current,
        name: 'Renamed',
      }));
      assert.equal(renamed.name, 'Renamed');
      assert.equal(store.workspaces.get('one')?.name, 'Renamed');
      assert.equal(store.workspaces.delete('one'), true);
      assert.equal(store.workspaces.delete('one'), false);
      assert.equal(store.workspaces.get('one'), undefined);
    } finally {
      store.close();
    }
  });

  test('other modules add tables through migrations, applied once', () => {
    const dataDir = tempDataDir();
    const migrations = [
      {
        version: 1,
        name: 'grants',
        up: (db: import('better-sqlite3').Database) =>
          db.exec('CREATE TABLE oauth_grants (id TEXT PRIMARY KEY)'),
      },
    ];
    const store = openStore({ dataDir });
    assert.deepEqual(store.migrate('oauth', migrations), [1]);
    store.db.prepare('INSERT INTO oauth_grants (id) VALUES (?)').run('g1');
    store.close();
    const again = openStore({ dataDir });
    assert.deepEqual(again.migrate('oauth', migrations), []);
    assert.equal(
      again.db.prepare('SELECT count(*) AS n FROM oauth_grants').get()?.constructor,
      Object,
    );
    again.close();
  });
});

describe('SecretBox', () => {
  const box = new SecretBox(Buffer.alloc(32, 1));

  test('seals with a fresh IV each time, in a versioned format, and opens back', () => {
    const a = box.seal('hello', 'ctx');
    const b = box.seal('hello', 'ctx');
    assert.notEqual(a, b);
    assert.match(a, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/);
    assert.equal(box.open(a, 'ctx'), 'hello');
  });

  test('a value moved to another context, altered, or opened with another key fails', () => {
    const sealed = box.seal('hello', 'workspace:a:auth.token');
    assert.throws(() => box.open(sealed, 'workspace:b:auth.token'), {
      code: 'ERR_SECRET_UNREADABLE',
    });
    const parts = sealed.split('.');
    parts[2] = Buffer.from('jello').toString('base64url');
    assert.throws(() => box.open(parts.join('.'), 'workspace:a:auth.token'), {
      code: 'ERR_SECRET_UNREADABLE',
    });
    assert.throws(() => new SecretBox(Buffer.alloc(32, 2)).open(sealed, 'workspace:a:auth.token'), {
      code: 'ERR_SECRET_UNREADABLE',
    });
    assert.throws(() => box.open('plain text'), { code: 'ERR_SECRET_UNREADABLE' });
  });
});
