/** The AS suites pass against our test server: login and consent pages posted by the harness's browser. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertConformant, runOnOurStack } from './our-stack';

test('every AS check passes against the test server', async () => {
  const { report } = await runOnOurStack(['as'], false);
  assert.ok(report.results.length >= 14);
  assert.ok(report.results.every((r) => r.suite.startsWith('as-')));
  assertConformant(report);
  assert.equal(report.summary.skipped, 0);
  assert.ok(report.summary.cases >= 20);
});
