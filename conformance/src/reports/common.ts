/** Helpers shared by the report writers. */
import type { CheckResult, RunReport } from '../types';

/** Results grouped by suite, suites in first-seen order. */
export function bySuite(report: RunReport): Array<[string, CheckResult[]]> {
  const groups = new Map<string, CheckResult[]>();
  for (const result of report.results) {
    const list = groups.get(result.suite) ?? [];
    list.push(result);
    groups.set(result.suite, list);
  }
  return [...groups];
}

export const STATUS_LABEL: Record<CheckResult['status'], string> = {
  passed: 'pass',
  failed: 'FAIL',
  error: 'ERROR',
  skipped: 'skip',
};

/** One line that says how the run went. */
export function verdict(report: RunReport): string {
  const s = report.summary;
  const head =
    s.mustFailures > 0 ? `${s.mustFailures} MUST check(s) failed` : 'no MUST check failed';
  return `${head}: ${s.passed} passed, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped of ${s.total}; ${s.cases} property cases; seed ${report.seed}`;
}
