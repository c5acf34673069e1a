/**
 * The proxy suites (all but refresh and expiry, which wait on clocks and have their own file)
 * against our proxy, with our test server as its upstream, started as --self-contained does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertConformant, runOnOurStack } from './our-stack';

test('our proxy passes the metadata, consent, PKCE, state, audience and DCR suites', async () => {
  const { stack, report } = await runOnOurStack([
    'proxy-metadata',
    'proxy-consent',
    'proxy-pkce',
    'proxy-state',
    'proxy-audience',
    'proxy-dcr',
  ]);
  assert.equal(stack.proxyUnavailable, undefined, 'our proxy was started');
  assert.ok(report.results.length >= 20);
  assertConformant(report);
  const byId = new Map(report.results.map((r) => [r.id, r.status]));
  assert.equal(
    byId.get('proxy-audience-other-workspace'),
    'passed',
    'two workspaces were configured',
  );
  assert.equal(
    byId.get('proxy-dcr-persists-restart'),
    'passed',
    'self-contained can restart our proxy',
  );
});
