/** A fake proxy that refreshes upstream without single-flight is caught by proxy-refresh-single-flight. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runProxySuitesAgainstFake } from './proxy-fakes';
import { assertCaughtBy } from './proxy-suites.broken-fakes.helpers';

test('refreshing without single-flight fails proxy-refresh-single-flight, and only it', async () => {
  const report = await runProxySuitesAgainstFake('no-single-flight');
  assertCaughtBy(report, ['proxy-refresh-single-flight']);
  const failure = report.results.find((r) => r.id === 'proxy-refresh-single-flight');
  assert.match(
    failure?.message ?? '',
    /made \d+ upstream refresh requests \(expected exactly 1\)|calls failed|replayed/,
  );
  assert.match(
    failure?.property?.counterexample ?? '',
    /^\[\d+,\d+\]$/,
    'the counterexample is [concurrency, delay]',
  );
});
