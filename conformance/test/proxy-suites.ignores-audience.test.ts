/** A fake proxy that ignores the token audience is caught by the workspace and resource binding checks. */
import { test } from 'node:test';
import { runProxySuitesAgainstFake } from './proxy-fakes';
import { assertCaughtBy } from './proxy-suites.broken-fakes.helpers';

test('ignoring the audience fails proxy-audience-other-workspace and proxy-audience-foreign-resource', async () => {
  const report = await runProxySuitesAgainstFake('ignores-audience');
  assertCaughtBy(report, ['proxy-audience-other-workspace', 'proxy-audience-foreign-resource']);
});
