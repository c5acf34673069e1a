/**
 * Outcomes a check can throw. Anything else thrown by a check is reported as an `error` (the
 * harness could not judge), not as a conformance failure.
 */
import type { PropertyFailureDetails } from './types';

/** The target did something the spec forbids: the check fails. */
export class CheckFailure extends Error {
  readonly code = 'ERR_CHECK_FAILED';
  override name = 'CheckFailure';
}

/** The check cannot run against these targets; `reason` names why. */
export class SkipCheck extends Error {
  readonly code = 'ERR_CHECK_SKIPPED';
  override name = 'SkipCheck';
}

/** A property failed: carries the seed, the shrunk counterexample and its replay line. */
export class PropertyFailure extends Error {
  readonly code = 'ERR_PROPERTY_FAILED';
  override name = 'PropertyFailure';
  constructor(
    message: string,
    readonly details: PropertyFailureDetails,
    /** False when the case threw something other than a CheckFailure (the harness could not judge). */
    readonly assertion: boolean,
  ) {
    super(message);
  }
}

/** Fails the check with `message` unless `condition` holds. */
export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}
