import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../src/store';

test('records expire, are consumed, and are revoked per grant and per client', async () => {
  let now = 0;
  const store = new MemoryStore(() => now);
  const Adapter = store.adapterFor();
  const tokens = new Adapter('AccessToken');
  const refresh = new Adapter('RefreshToken');
  await tokens.upsert('a1', { clientId: 'c1', grantId: 'g1' }, 10);
  await refresh.upsert('r1', { clientId: 'c1', grantId: 'g1' }, 10);
  await tokens.upsert('a2', { clientId: 'c2', grantId: 'g2' }, 10);
  await refresh.consume('r1');
  assert.equal(typeof (await refresh.find('r1'))?.consumed, 'number');
  await tokens.revokeByGrantId('g1');
  assert.equal(await tokens.find('a1'), undefined);
  assert.equal(await refresh.find('r1'), undefined);
  assert.equal(store.revokeClient('c2'), 1);
  assert.equal(await tokens.find('a2'), undefined);
  await tokens.upsert('a3', { clientId: 'c3' }, 10);
  now = 10_000;
  assert.equal(await tokens.find('a3'), undefined, 'expired');
});

test('sweep drops expired records nobody asked for again', async () => {
  let now = 0;
  const store = new MemoryStore(() => now);
  const Adapter = store.adapterFor();
  const sessions = new Adapter('Session');
  await sessions.upsert('s1', {}, 1);
  await sessions.upsert('s2', {}, 100);
  now = 5_000;
  assert.equal(store.sweep(), 1);
  assert.ok(await sessions.find('s2'));
});
