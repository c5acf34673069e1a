/**
 * A fake proxy that hands the client the upstream token and forwards it (token passthrough) is
 * caught by the audience/passthrough checks. Being a passthrough, it never refreshes, so the
 * refresh checks fail too (named below); metadata, PKCE, state, workspace binding and DCR pass.
 */
import { test } from 'node:test';
import { runProxySuitesAgainstFake } from './proxy-fakes';
import { assertCaughtBy } from './proxy-suites.broken-fakes.helpers';

test('forwarding the client token fails the passthrough checks', async () => {
  const report = await runProxySuitesAgainstFake('forwards-client-token');
  assertCaughtBy(
    report,
    ['proxy-audience-no-passthrough', 'proxy-audience-no-upstream-token-to-client'],
    [
      'proxy-expiry-upstream-refresh',
      'proxy-refresh-single-flight',
      'proxy-refresh-upstream-invalid-grant',
    ],
  );
});
