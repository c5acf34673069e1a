/**
 * The AS suites can fail: each deliberately broken fake AS is caught by the check named for its
 * flaw, while the checks unrelated to that flaw still pass against it (so the catch is specific),
 * and a correct fake passes everything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { asChecks } from '../src/suites/index';
import type { RunReport } from '../src/types';
import { type AsFlaw, type FakeAs, startFakeAs } from './fakes/fake-as';
import { runForTest, statuses } from './helpers';

/** Each flaw, the checks that must fail for it, and the ones that must then be skipped. */
const CASES: Array<{ flaw: AsFlaw; failing: string[]; skipped?: string[] }> = [
  { flaw: 'ignores-verifier', failing: ['as-pkce-wrong-verifier', 'as-pkce-missing-verifier'] },
  { flaw: 'accepts-plain', failing: ['as-pkce-plain-rejected'] },
  { flaw: 'reuses-codes', failing: ['as-pkce-code-single-use'] },
  { flaw: 'ignores-state', failing: ['as-state-roundtrip'] },
  {
    flaw: 'no-rotation',
    failing: ['as-refresh-rotation'],
    skipped: ['as-refresh-replay-rejected'],
  },
];

async function runAgainst(fake: FakeAs): Promise<RunReport> {
  return runForTest(asChecks, {
    as: {
      issuer: fake.issuer,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      clientAuth: 'client_secret_basic',
      redirectUri: fake.redirectUri,
    },
    upstream: { url: fake.url, controlToken: fake.controlToken },
  });
}

describe('AS suites against a correct fake AS', () => {
  let fake: FakeAs;
  before(async () => {
    fake = await startFakeAs();
  });
  after(() => fake.close());

  test('every check passes', async () => {
    const report = await runAgainst(fake);
    assert.deepEqual(
      report.results.filter((r) => r.status !== 'passed').map((r) => `${r.id}: ${r.message}`),
      [],
    );
    assert.equal(report.summary.mustFailures, 0);
  });
});

for (const { flaw, failing, skipped = [] } of CASES) {
  describe(`AS suites against a fake AS that ${flaw}`, () => {
    let fake: FakeAs;
    before(async () => {
      fake = await startFakeAs({ flaw });
    });
    after(() => fake.close());

    test(`${failing.join(', ')} fail(s); every other check passes`, async () => {
      const report = await runAgainst(fake);
      const byId = statuses(report);
      for (const id of failing) assert.equal(byId[id], 'failed', `${id} should catch "${flaw}"`);
      for (const id of skipped)
        assert.equal(byId[id], 'skipped', `${id} should be skipped for "${flaw}"`);
      const others = Object.entries(byId).filter(
        ([id]) => !failing.includes(id) && !skipped.includes(id),
      );
      assert.ok(others.length >= 8, 'unrelated checks ran');
      assert.deepEqual(
        others.filter(([, status]) => status !== 'passed'),
        [],
        'only the checks named for the flaw fail',
      );
      const failure = report.results.find((r) => r.id === failing[0]);
      assert.ok(failure?.property, 'the failure is a property failure with a counterexample');
      assert.match(
        failure.property.replay,
        new RegExp(`--check ${failing[0]} --seed \\d+ --path \\S+`),
      );
      assert.ok(report.summary.mustFailures >= (flaw === 'no-rotation' ? 0 : 1));
    });
  });
}
