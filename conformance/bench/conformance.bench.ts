/**
 * The full default conformance run (every suite, --runs 100, self-contained stack) timed end to
 * end, and its property cases per second, printed as ratios against two floors measured in the
 * same process: fast-check running a no-op async property (the harness's own overhead) and plain
 * sequential loopback HTTP round trips to the same test server (what one request costs).
 */
import fc from 'fast-check';
import { runChecks } from '../src/runner';
import { startSelfContained } from '../src/self-contained';
import { allChecks } from '../src/suites/index';

const SEED = 20_260_101;

async function fastCheckFloor(): Promise<number> {
  const runs = 20_000;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(fc.string({ minLength: 43, maxLength: 128 }), async () => {}),
    { seed: SEED, numRuns: runs },
  );
  return runs / ((performance.now() - started) / 1000);
}

async function httpFloor(url: string): Promise<number> {
  const requests = 300;
  const started = performance.now();
  for (let i = 0; i < requests; i += 1) {
    const response = await fetch(url);
    await response.arrayBuffer();
  }
  return requests / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const bootStarted = performance.now();
  const stack = await startSelfContained();
  const bootMs = performance.now() - bootStarted;
  try {
    const upstream = stack.targets.upstream?.url ?? '';
    const fcRate = await fastCheckFloor();
    const httpRate = await httpFloor(`${upstream}/.well-known/oauth-authorization-server`);
    const started = performance.now();
    const report = await runChecks(allChecks, stack.targets, {
      seed: SEED,
      runs: 100,
      timeoutMs: 300_000,
      replayPrefix: 'npm run conformance -- --self-contained',
    });
    const wallMs = performance.now() - started;
    const propertyMs = report.results
      .filter((r) => r.cases > 0)
      .reduce((sum, r) => sum + r.durationMs, 0);
    const caseRate = report.summary.cases / (propertyMs / 1000);
    const fmt = (n: number, digits = 1) => n.toFixed(digits);
    console.log(
      `full default run: ${report.summary.total} checks (${report.summary.passed} passed, ${report.summary.failed} failed, ${report.summary.errors} errors, ${report.summary.skipped} skipped), seed ${SEED}`,
    );
    console.log(`  stack start (test server + proxy)     ${fmt(bootMs / 1000, 2)} s`);
    console.log(`  wall time of the run                  ${fmt(wallMs / 1000, 2)} s`);
    console.log(
      `  property cases                        ${report.summary.cases} in ${fmt(propertyMs / 1000, 2)} s of property checks`,
    );
    console.log(`  property cases per second             ${fmt(caseRate)} /s`);
    console.log('baselines measured in this run:');
    console.log(`  fast-check no-op async property       ${fmt(fcRate, 0)} cases/s`);
    console.log(`  sequential loopback HTTP GET          ${fmt(httpRate, 0)} req/s`);
    console.log('ratios:');
    console.log(
      `  conformance case rate / fast-check floor   ${(caseRate / fcRate).toExponential(2)}  (harness overhead is negligible)`,
    );
    console.log(
      `  HTTP round trips per conformance case      ${fmt(httpRate / caseRate)}  (a case ~ this many plain GETs)`,
    );
    console.log('slowest checks (they wait on clocks: TTLs, grace windows):');
    for (const r of [...report.results].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5)) {
      console.log(
        `  ${r.id.padEnd(40)} ${fmt(r.durationMs / 1000, 2)} s  ${r.cases} cases  (${fmt((100 * r.durationMs) / wallMs)} % of the run)`,
      );
    }
    if (report.summary.mustFailures > 0) process.exitCode = 1;
  } finally {
    await stack.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
