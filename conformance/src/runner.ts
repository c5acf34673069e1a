/**
 * Runs checks one after another (they share the upstream's counters, so never concurrently), each
 * under its own timeout, and collects results. Checks whose needs the targets cannot meet are
 * skipped with a named reason.
 */
import { CheckFailure, PropertyFailure, SkipCheck } from './errors';
import { checkProperty, describeError } from './property';
import type {
  Check,
  CheckContext,
  CheckResult,
  Need,
  RunOptions,
  RunReport,
  Targets,
} from './types';

export const HARNESS_VERSION = '1.0.0';

/** Why a check cannot run against `targets`, or undefined when it can. */
export function missingNeed(need: Need, targets: Targets): string | undefined {
  switch (need) {
    case 'as':
      return targets.as ? undefined : 'no authorization server given (--as with --client-id)';
    case 'proxy':
      return targets.proxy ? undefined : 'no proxy given (--proxy)';
    case 'upstream':
      return targets.upstream
        ? undefined
        : 'no instrumented upstream given (--upstream with --control-token)';
    case 'second-workspace':
      return (targets.proxy?.mcpUrls.length ?? 0) >= 2
        ? undefined
        : 'only one workspace given (repeat --proxy with a second MCP URL of the same proxy)';
    case 'restart':
      return targets.proxy?.restart ? undefined : 'target cannot be restarted';
  }
}

/** Selects checks by suite (exact name or group prefix such as `as` or `proxy`) and by id. */
export function selectChecks(checks: Check[], suites: string[], ids: string[]): Check[] {
  return checks.filter(
    (check) =>
      (suites.length === 0 ||
        suites.some((s) => check.suite === s || check.suite.startsWith(`${s}-`))) &&
      (ids.length === 0 || ids.includes(check.id)),
  );
}

async function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  controller: AbortController,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one check and reports its outcome; never throws. */
export async function runCheck(
  check: Check,
  targets: Targets,
  options: RunOptions,
): Promise<CheckResult> {
  const base = {
    id: check.id,
    title: check.title,
    suite: check.suite,
    clause: check.clause,
    link: check.link,
    level: check.level,
  };
  const notes: string[] = [];
  const started = performance.now();
  const unmet = check.needs.map((need) => missingNeed(need, targets)).find((r) => r !== undefined);
  if (unmet) return { ...base, status: 'skipped', message: unmet, durationMs: 0, cases: 0, notes };

  const controller = new AbortController();
  let cases = 0;
  let properties = 0;
  const ctx: CheckContext = {
    targets,
    options,
    signal: controller.signal,
    note: (text) => notes.push(text),
    property: async (arbitraries, predicate, limits) => {
      properties += 1;
      if (properties > 1)
        throw new Error('a check runs at most one property (replay paths are per check)');
      const run = await checkProperty(
        options,
        { suite: check.suite, checkId: check.id },
        arbitraries,
        predicate,
        {
          ...limits,
          signal: controller.signal,
        },
      );
      cases += run.cases;
    },
  };
  const durationMs = () => Math.round(performance.now() - started);
  try {
    await withTimeout(check.run(ctx), check.timeoutMs ?? options.timeoutMs, controller);
    return { ...base, status: 'passed', durationMs: durationMs(), cases, notes };
  } catch (error) {
    if (error instanceof SkipCheck) {
      return {
        ...base,
        status: 'skipped',
        message: error.message,
        durationMs: durationMs(),
        cases,
        notes,
      };
    }
    if (error instanceof PropertyFailure) {
      return {
        ...base,
        status: error.assertion ? 'failed' : 'error',
        message: error.message,
        property: error.details,
        durationMs: durationMs(),
        cases: cases + error.details.numRuns,
        notes,
      };
    }
    const failed = error instanceof CheckFailure;
    return {
      ...base,
      status: failed ? 'failed' : 'error',
      message: describeError(error),
      durationMs: durationMs(),
      cases,
      notes,
    };
  } finally {
    controller.abort();
  }
}

/** Runs `checks` sequentially against `targets` and builds the report. */
export async function runChecks(
  checks: Check[],
  targets: Targets,
  options: RunOptions,
  onResult?: (result: CheckResult) => void,
): Promise<RunReport> {
  const startedAt = new Date();
  const started = performance.now();
  const results: CheckResult[] = [];
  for (const check of checks) {
    const result = await runCheck(check, targets, options);
    results.push(result);
    onResult?.(result);
  }
  const count = (status: CheckResult['status']) =>
    results.filter((r) => r.status === status).length;
  return {
    schemaVersion: 1,
    tool: { name: 'mcp-oauth-conformance', version: HARNESS_VERSION },
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    seed: options.seed,
    runs: options.runs,
    targets: {
      ...(targets.as ? { as: targets.as.issuer } : {}),
      ...(targets.proxy ? { proxy: targets.proxy.mcpUrls } : {}),
      ...(targets.upstream ? { upstream: targets.upstream.url } : {}),
    },
    summary: {
      total: results.length,
      passed: count('passed'),
      failed: count('failed'),
      errors: count('error'),
      skipped: count('skipped'),
      mustFailures: results.filter(
        (r) => r.level === 'MUST' && (r.status === 'failed' || r.status === 'error'),
      ).length,
      cases: results.reduce((sum, r) => sum + r.cases, 0),
    },
    results,
  };
}
