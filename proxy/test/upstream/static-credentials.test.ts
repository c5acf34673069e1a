import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallContext, Workspace } from '../../src/types';
import { staticCredentials } from '../../src/upstream/static-credentials';

const ctx = { workspace: { id: 'ws' } as Workspace } satisfies CallContext;

describe('staticCredentials', () => {
  test('none adds no header', async () => {
    assert.deepEqual(await staticCredentials({ type: 'none' }).headers(ctx), {});
  });

  test('bearer sends Authorization: Bearer <token>', async () => {
    const creds = staticCredentials({ type: 'bearer', token: 'tk_123' });
    assert.deepEqual(await creds.headers(ctx), { Authorization: 'Bearer tk_123' });
    assert.equal(creds.onUnauthorized, undefined, 'nothing to renew on a 401');
  });

  test('apiKey defaults to X-Api-Key and honours a configured header name', async () => {
    assert.deepEqual(await staticCredentials({ type: 'apiKey', value: 'ak_1' }).headers(ctx), {
      'X-Api-Key': 'ak_1',
    });
    assert.deepEqual(
      await staticCredentials({ type: 'apiKey', header: 'X-Key', value: 'ak_2' }).headers(ctx),
      { 'X-Key': 'ak_2' },
    );
  });

  test('headers sends every configured header, and callers cannot mutate the source', async () => {
    const auth = { type: 'headers' as const, headers: { 'X-Tenant-Id': 't', 'X-Api-Secret': 's' } };
    const creds = staticCredentials(auth);
    const first = await creds.headers(ctx);
    first['X-Tenant-Id'] = 'changed';
    assert.deepEqual(await creds.headers(ctx), { 'X-Tenant-Id': 't', 'X-Api-Secret': 's' });
  });

  test('oauth2 is refused with ERR_INVALID_ARG_VALUE', () => {
    assert.throws(
      () =>
        staticCredentials({
          type: 'oauth2',
          provider: 'custom',
          grant: 'authorization_code',
          scopes: [],
          pkce: true,
          state: true,
        }),
      { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' },
    );
  });
});
