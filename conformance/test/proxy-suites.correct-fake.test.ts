/** The proxy suites pass against a correct fake proxy: the baseline the broken fakes differ from. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runProxySuitesAgainstFake } from './proxy-fakes';

test('every proxy check passes or is skipped for a named reason against a correct fake proxy', async () => {
  const report = await runProxySuitesAgainstFake('none');
  const notPassed = report.results.filter((r) => r.status !== 'passed');
  assert.deepEqual(
    notPassed.map((r) => [r.id, r.status, r.message]),
    [
      [
        'proxy-state-callback-expired',
        'skipped',
        "the proxy's state lifetime is unknown (give --proxy-state-ttl)",
      ],
      [
        'proxy-expiry-own-token',
        'skipped',
        "the proxy's access tokens live 3600 s, longer than this check waits (10 s)",
      ],
      ['proxy-dcr-persists-restart', 'skipped', 'target cannot be restarted'],
    ],
  );
  assert.equal(report.summary.mustFailures, 0);
  assert.ok(report.summary.cases >= 15, `properties ran cases (${report.summary.cases})`);
});
