/**
 * Runs fast-check properties with the run's seed, optional replay path and case budget, and turns
 * a failure into a PropertyFailure carrying the shrunk counterexample and a replay command.
 */
import fc from 'fast-check';
import { CheckFailure, PropertyFailure } from './errors';
import type { PropertyFailureDetails, RunOptions } from './types';

export interface PropertyRun {
  cases: number;
}

/** Quotes one shell argument for the replay line (POSIX sh). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The one-line command that replays exactly one case of one check. */
export function replayCommand(
  options: RunOptions,
  suite: string,
  checkId: string,
  seed: number,
  path: string,
): string {
  return `${options.replayPrefix} --suite ${shellQuote(suite)} --check ${shellQuote(checkId)} --seed ${seed} --path ${shellQuote(path)}`;
}

/** The error's message without its stack, for reports. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Checks an async property; with `options.path` set only that case is replayed.
 * @see https://fast-check.dev/docs/advanced/fake-data/#replay
 */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  options: RunOptions,
  identity: { suite: string; checkId: string },
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => Promise<void>,
  limits: { maxRuns?: number; signal?: AbortSignal },
): Promise<PropertyRun> {
  const numRuns = Math.max(1, Math.min(options.runs, limits.maxRuns ?? options.runs));
  const property = fc.asyncProperty(
    ...(arbitraries as unknown as [fc.Arbitrary<unknown>]),
    async (...args: unknown[]) => {
      if (limits.signal?.aborted) throw new Error('check aborted');
      await predicate(...(args as unknown as Ts));
    },
  );
  const details = await fc.check(property, {
    seed: options.seed,
    numRuns,
    ...(options.path !== undefined ? { path: options.path, endOnFailure: true } : {}),
  });
  if (!details.failed) return { cases: details.numRuns };
  if (details.counterexample === null || details.counterexamplePath === null) {
    throw new CheckFailure(
      details.interrupted
        ? 'property interrupted'
        : `property gave up after ${details.numSkips} skipped cases`,
    );
  }
  const reason = describeError(details.errorInstance);
  const counterexample = fc.stringify(details.counterexample);
  const failure: PropertyFailureDetails = {
    seed: details.seed,
    path: details.counterexamplePath,
    numRuns: details.numRuns,
    numShrinks: details.numShrinks,
    counterexample,
    replay: replayCommand(
      options,
      identity.suite,
      identity.checkId,
      details.seed,
      details.counterexamplePath,
    ),
  };
  throw new PropertyFailure(
    `${reason} (counterexample ${counterexample})`,
    failure,
    details.errorInstance instanceof CheckFailure,
  );
}
