/**
 * Injected faults: one-shot or repeated failures of /auth/token or of the API, armed through the
 * control API and fired by express middleware before the real handler runs.
 */
import { randomUUID } from 'node:crypto';

export const FAULT_TARGETS = ['token', 'api'] as const;
export const FAULT_KINDS = ['oauth_error', 'status', 'delay', 'drop'] as const;

export interface FaultSpec {
  target: (typeof FAULT_TARGETS)[number];
  /** Token faults only: fire only for this grant_type. */
  grant_type?: string;
  /** API faults only: fire only for paths starting with this prefix. */
  path?: string;
  kind: (typeof FAULT_KINDS)[number];
  /** oauth_error: the RFC 6749 error code, e.g. invalid_grant or temporarily_unavailable. */
  error?: string;
  error_description?: string;
  /** status: the HTTP status (e.g. 503); oauth_error: overrides the default 400/401. */
  status?: number;
  /** delay: milliseconds to wait before the real handler answers. */
  delay_ms?: number;
  /** How many matching requests it hits; 0 = until cleared. Default 1. */
  times: number;
}

export interface Fault extends FaultSpec {
  id: string;
  /** Hits left (null when unlimited). */
  remaining: number | null;
  fired: number;
}

/** Thrown for a fault description the control API cannot accept. */
export class FaultSpecError extends Error {
  readonly code = 'ERR_INVALID_FAULT';
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new FaultSpecError(`"${key}" must be a non-empty string`);
  }
  return value;
}

function optionalInteger(
  body: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new FaultSpecError(`"${key}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(
  body: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
): T {
  const value = body[key];
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new FaultSpecError(`"${key}" must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Narrows a control-API request body to a fault description; throws FaultSpecError naming the field. */
export function parseFaultSpec(input: unknown): FaultSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FaultSpecError('body must be a JSON object');
  }
  const body = input as Record<string, unknown>;
  const spec: FaultSpec = {
    target: oneOf(body, 'target', FAULT_TARGETS),
    kind: oneOf(body, 'kind', FAULT_KINDS),
    times: optionalInteger(body, 'times', 0, 1_000_000) ?? 1,
  };
  const grantType = optionalString(body, 'grant_type');
  const path = optionalString(body, 'path');
  const error = optionalString(body, 'error');
  const errorDescription = optionalString(body, 'error_description');
  const status = optionalInteger(body, 'status', 100, 599);
  const delayMs = optionalInteger(body, 'delay_ms', 0, 120_000);
  if (grantType !== undefined) spec.grant_type = grantType;
  if (path !== undefined) spec.path = path;
  if (error !== undefined) spec.error = error;
  if (errorDescription !== undefined) spec.error_description = errorDescription;
  if (status !== undefined) spec.status = status;
  if (delayMs !== undefined) spec.delay_ms = delayMs;
  if (spec.kind === 'oauth_error' && spec.error === undefined) {
    throw new FaultSpecError('"error" is required for kind oauth_error');
  }
  if (spec.kind === 'status' && spec.status === undefined) {
    throw new FaultSpecError('"status" is required for kind status');
  }
  if (spec.kind === 'delay' && spec.delay_ms === undefined) {
    throw new FaultSpecError('"delay_ms" is required for kind delay');
  }
  return spec;
}

/** The armed faults, in the order they were added. */
export class FaultTable {
  #faults: Fault[] = [];

  add(spec: FaultSpec): Fault {
    const fault: Fault = {
      id: randomUUID(),
      ...spec,
      remaining: spec.times === 0 ? null : spec.times,
      fired: 0,
    };
    this.#faults.push(fault);
    return { ...fault };
  }

  list(): Fault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  remove(id: string): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length !== before;
  }

  clear(): void {
    this.#faults = [];
  }

  /**
   * Finds the first armed fault matching this request, counts one hit and disarms it when
   * spent. Spent faults stay listed (remaining 0) until cleared, so tests can read `fired`.
   */
  take(
    target: FaultSpec['target'],
    request: { grantType?: string; path?: string },
  ): Fault | undefined {
    const fault = this.#faults.find(
      (f) =>
        f.target === target &&
        f.remaining !== 0 &&
        (f.grant_type === undefined || f.grant_type === request.grantType) &&
        (f.path === undefined || (request.path ?? '').startsWith(f.path)),
    );
    if (!fault) return undefined;
    fault.fired += 1;
    if (fault.remaining !== null) fault.remaining -= 1;
    return { ...fault };
  }
}
