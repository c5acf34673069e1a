/** Shared helpers of the harness's self-tests. */
import { runChecks } from '../src/runner';
import type { Check, RunReport, Targets } from '../src/types';

/** Runs `checks` with a fixed seed and a small case budget, as the self-tests do. */
export function runForTest(
  checks: Check[],
  targets: Targets,
  runs = 20,
  seed = 42,
): Promise<RunReport> {
  return runChecks(checks, targets, {
    seed,
    runs,
    timeoutMs: 60_000,
    replayPrefix: 'npm run conformance -- --self-contained',
  });
}

/** id → status of every result. */
export function statuses(report: RunReport): Record<string, string> {
  return Object.fromEntries(report.results.map((r) => [r.id, r.status]));
}
