import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeAuthorizationRequest } from '../src/instrument';

function run(query: string, autoApprove = false): [boolean, string] {
  const params = new URLSearchParams(query);
  return [normalizeAuthorizationRequest(params, autoApprove), params.toString()];
}

test('a request naming no API scope gets the default API scopes', () => {
  assert.deepEqual(run('client_id=c'), [
    true,
    'client_id=c&scope=items%3Aread+items%3Awrite+users%3Aread',
  ]);
  assert.deepEqual(run('scope=openid+email'), [
    true,
    'scope=openid+email+items%3Aread+items%3Awrite+users%3Aread',
  ]);
  assert.deepEqual(run('scope=openid+items%3Aread'), [false, 'scope=openid+items%3Aread']);
});

test('prompt=none is dropped only with auto-approve', () => {
  assert.deepEqual(run('scope=users%3Aread&prompt=none'), [
    false,
    'scope=users%3Aread&prompt=none',
  ]);
  assert.deepEqual(run('scope=users%3Aread&prompt=none', true), [true, 'scope=users%3Aread']);
  assert.deepEqual(run('scope=users%3Aread&prompt=consent', true), [
    false,
    'scope=users%3Aread&prompt=consent',
  ]);
});
