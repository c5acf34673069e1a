/** Refresh races and upstream expiry against our proxy (TTLs set through the test server's control API). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertConformant, runOnOurStack } from './our-stack';

test('our proxy refreshes exactly once per expiry under generated concurrency, and calls after expiry succeed', async () => {
  const { report } = await runOnOurStack([], true, [
    'proxy-expiry-upstream-refresh',
    'proxy-expiry-own-token',
    'proxy-refresh-single-flight',
    'proxy-refresh-upstream-invalid-grant',
  ]);
  assert.deepEqual(
    report.results.map((r) => r.id),
    [
      'proxy-expiry-upstream-refresh',
      'proxy-expiry-own-token',
      'proxy-refresh-single-flight',
      'proxy-refresh-upstream-invalid-grant',
    ],
  );
  assertConformant(report);
  const singleFlight = report.results.find((r) => r.id === 'proxy-refresh-single-flight');
  assert.equal(singleFlight?.status, 'passed');
  assert.equal(singleFlight?.cases, 3);
});
