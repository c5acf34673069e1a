/** Downstream refresh-token rotation against our proxy, inside and outside its grace window (3 s in self-contained mode). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertConformant, runOnOurStack } from './our-stack';

test('our proxy rotates refresh tokens, honours the grace window, and revokes the family after it', async () => {
  const { report } = await runOnOurStack([], true, [
    'proxy-refresh-downstream-rotation',
    'proxy-refresh-reuse-revokes-family',
  ]);
  assert.equal(report.results.length, 2);
  assertConformant(report);
  assert.ok(report.results.every((r) => r.status === 'passed'));
  assert.match(
    report.results[0]?.notes.join(' ') ?? '',
    /replay inside the 3 s grace window answered 200/,
  );
});
