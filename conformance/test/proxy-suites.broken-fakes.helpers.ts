/** Assertions shared by the broken-fake-proxy self-tests. */
import assert from 'node:assert/strict';
import type { RunReport } from '../src/types';
import { statuses } from './helpers';

const SKIPPED = [
  'proxy-state-callback-expired',
  'proxy-expiry-own-token',
  'proxy-dcr-persists-restart',
];

/**
 * The checks named for the flaw fail; `alsoFailing` are the known knock-on failures (named so a
 * new one shows up); every other check passes, so the catch is specific.
 */
export function assertCaughtBy(
  report: RunReport,
  named: string[],
  alsoFailing: string[] = [],
): void {
  const byId = statuses(report);
  for (const id of named) assert.equal(byId[id], 'failed', `${id} must catch the flaw`);
  for (const id of alsoFailing) assert.equal(byId[id], 'failed', `${id} was expected to fail too`);
  const rest = Object.entries(byId).filter(
    ([id]) => !named.includes(id) && !alsoFailing.includes(id) && !SKIPPED.includes(id),
  );
  assert.ok(rest.length >= 15, 'most checks ran');
  assert.deepEqual(
    rest.filter(([, status]) => status !== 'passed'),
    [],
    'no other check fails',
  );
  assert.ok(report.summary.mustFailures >= named.length);
}
