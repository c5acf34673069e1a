/** The runner: outcomes per kind of throw, timeouts, named skips, property replay by path. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CheckFailure, SkipCheck } from '../src/errors';
import { runCheck, runChecks, selectChecks } from '../src/runner';
import { sleep } from '../src/time';
import type { Check, RunOptions } from '../src/types';

const options: RunOptions = {
  seed: 5,
  runs: 50,
  timeoutMs: 2_000,
  replayPrefix: 'npm run conformance -- --self-contained',
};

function check(id: string, run: Check['run'], extra: Partial<Check> = {}): Check {
  return {
    id,
    title: id,
    clause: 'RFC 0000 §0',
    link: 'https://example.invalid',
    level: 'MUST',
    suite: 'unit-suite',
    needs: [],
    run,
    ...extra,
  };
}

describe('runCheck', () => {
  test('a CheckFailure fails; any other throw is an error; SkipCheck skips with its reason', async () => {
    const failed = await runCheck(
      check('unit-fail', async () => {
        throw new CheckFailure('broke RFC');
      }),
      {},
      options,
    );
    assert.deepEqual([failed.status, failed.message], ['failed', 'broke RFC']);
    const errored = await runCheck(
      check('unit-error', async () => {
        throw new TypeError('fetch failed');
      }),
      {},
      options,
    );
    assert.deepEqual([errored.status, errored.message], ['error', 'fetch failed']);
    const skipped = await runCheck(
      check('unit-skip', async () => {
        throw new SkipCheck('target cannot be restarted');
      }),
      {},
      options,
    );
    assert.deepEqual([skipped.status, skipped.message], ['skipped', 'target cannot be restarted']);
  });

  test('unmet needs skip before running, naming the missing flag', async () => {
    let ran = false;
    const result = await runCheck(
      check(
        'unit-needs',
        async () => {
          ran = true;
        },
        { needs: ['proxy', 'upstream'] },
      ),
      {},
      options,
    );
    assert.equal(ran, false);
    assert.deepEqual([result.status, result.message], ['skipped', 'no proxy given (--proxy)']);
  });

  test('a check over its timeout is an error, and its signal is aborted', async () => {
    let aborted = false;
    const result = await runCheck(
      check(
        'unit-slow',
        async (ctx) => {
          await sleep(5_000, ctx.signal).catch(() => {
            aborted = ctx.signal.aborted;
          });
          await sleep(10);
        },
        { timeoutMs: 50 },
      ),
      {},
      options,
    );
    assert.deepEqual([result.status, result.message], ['error', 'timed out after 50 ms']);
    await sleep(20);
    assert.equal(aborted, true);
  });

  test('a failing property reports seed, path, shrunk counterexample and replay; the path replays just that case', async () => {
    const target = check('unit-prop', async (ctx) => {
      await ctx.property([fc.integer({ min: 0, max: 1000 })], async (n) => {
        if (n >= 300) throw new CheckFailure(`${n} is too big`);
      });
    });
    const result = await runCheck(target, {}, options);
    assert.equal(result.status, 'failed');
    assert.equal(result.property?.counterexample, '[300]', 'shrunk to the boundary');
    assert.equal(result.property?.seed, 5);
    assert.match(
      result.property?.replay ?? '',
      /^npm run conformance -- --self-contained --suite unit-suite --check unit-prop --seed 5 --path \S+$/,
    );
    const replayed = await runCheck(target, {}, { ...options, path: result.property?.path ?? '' });
    assert.equal(replayed.property?.counterexample, '[300]');
    assert.equal(replayed.cases, 1);
  });

  test('a property whose case throws a non-assertion error is an error, still with its counterexample', async () => {
    const result = await runCheck(
      check('unit-prop-error', async (ctx) => {
        await ctx.property([fc.nat()], async () => {
          throw new Error('ECONNRESET');
        });
      }),
      {},
      options,
    );
    assert.equal(result.status, 'error');
    assert.ok(result.property);
  });

  test('a check runs at most one property', async () => {
    const result = await runCheck(
      check('unit-two', async (ctx) => {
        await ctx.property([fc.nat()], async () => {});
        await ctx.property([fc.nat()], async () => {});
      }),
      {},
      options,
    );
    assert.equal(result.status, 'error');
    assert.match(result.message ?? '', /at most one property/);
  });
});

describe('runChecks and selectChecks', () => {
  const checks = [
    check('a-one', async () => {}, { suite: 'as-pkce' }),
    check(
      'a-two',
      async () => {
        throw new CheckFailure('x');
      },
      { suite: 'as-state', level: 'SHOULD' },
    ),
    check(
      'p-one',
      async () => {
        throw new CheckFailure('y');
      },
      { suite: 'proxy-dcr' },
    ),
  ];

  test('suites select by name or group prefix, checks by id', () => {
    assert.deepEqual(
      selectChecks(checks, ['as'], []).map((c) => c.id),
      ['a-one', 'a-two'],
    );
    assert.deepEqual(
      selectChecks(checks, ['proxy-dcr'], []).map((c) => c.id),
      ['p-one'],
    );
    assert.deepEqual(
      selectChecks(checks, [], ['a-two']).map((c) => c.id),
      ['a-two'],
    );
    assert.deepEqual(selectChecks(checks, ['as'], ['p-one']), []);
  });

  test('the summary counts MUST failures only as mustFailures', async () => {
    const report = await runChecks(checks, {}, options);
    assert.deepEqual(report.summary, {
      total: 3,
      passed: 1,
      failed: 2,
      errors: 0,
      skipped: 0,
      mustFailures: 1,
      cases: 0,
    });
    assert.equal(report.schemaVersion, 1);
  });
});
