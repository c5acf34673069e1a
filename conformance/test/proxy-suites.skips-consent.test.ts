/** A fake proxy that sends new clients upstream without its own consent page (confused deputy) is caught by the consent checks. */
import { test } from 'node:test';
import { runProxySuitesAgainstFake } from './proxy-fakes';
import { assertCaughtBy } from './proxy-suites.broken-fakes.helpers';

test('skipping consent fails the proxy-consent checks, and only them', async () => {
  const report = await runProxySuitesAgainstFake('skips-consent');
  assertCaughtBy(report, [
    'proxy-consent-required',
    'proxy-consent-no-framing',
    'proxy-consent-deny',
  ]);
});
