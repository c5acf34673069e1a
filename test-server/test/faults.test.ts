import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultSpecError, FaultTable, parseFaultSpec } from '../src/faults';

test('parseFaultSpec fills times = 1 and keeps only known fields', () => {
  assert.deepEqual(parseFaultSpec({ target: 'token', kind: 'drop', extra: 1 }), {
    target: 'token',
    kind: 'drop',
    times: 1,
  });
});

test('parseFaultSpec names the wrong field', () => {
  assert.throws(() => parseFaultSpec(null), FaultSpecError);
  assert.throws(
    () => parseFaultSpec({ target: 'token', kind: 'status', status: 99 }),
    /"status" must be an integer from 100 to 599/,
  );
  assert.throws(
    () => parseFaultSpec({ target: 'api', kind: 'drop', path: '' }),
    /"path" must be a non-empty string/,
  );
});

test('take: first matching fault, counted, spent after `times`', () => {
  const table = new FaultTable();
  const refresh = table.add(
    parseFaultSpec({ target: 'token', grant_type: 'refresh_token', kind: 'drop', times: 2 }),
  );
  const users = table.add(
    parseFaultSpec({ target: 'api', path: '/api/users', kind: 'drop', times: 0 }),
  );
  assert.equal(table.take('token', { grantType: 'client_credentials' }), undefined);
  assert.equal(table.take('token', { grantType: 'refresh_token' })?.id, refresh.id);
  assert.equal(table.take('token', { grantType: 'refresh_token' })?.remaining, 0);
  assert.equal(table.take('token', { grantType: 'refresh_token' }), undefined);
  assert.equal(table.take('api', { path: '/api/items' }), undefined);
  for (let i = 0; i < 5; i++) assert.equal(table.take('api', { path: '/api/users' })?.id, users.id);
  const listed = table.list();
  assert.deepEqual(
    listed.map((f) => [f.fired, f.remaining]),
    [
      [2, 0],
      [5, null],
    ],
  );
  assert.equal(table.remove(users.id), true);
  assert.equal(table.remove(users.id), false);
  table.clear();
  assert.deepEqual(table.list(), []);
});
