/**
 * The harness's vocabulary: what a check is, what it runs against, and what it reports. Checks are
 * black-box: they see targets only as URLs and credentials, never as code.
 */
import type fc from 'fast-check';

export type Level = 'MUST' | 'SHOULD';

/** An authorization server under test, with a client registered at it. */
export interface AsTarget {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Where the AS sends the browser back; the harness's user agent stops there, nothing listens. */
  redirectUri: string;
  /** How the client authenticates at the token endpoint. */
  clientAuth: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Space-separated scope to request; undefined = derived from the AS metadata. */
  scope?: string;
  /** RFC 8707 resource to request, when the AS needs one. */
  resource?: string;
  /** Credentials for a login form, if the AS shows one. */
  username?: string;
  password?: string;
}

/** An MCP OAuth proxy under test: one or more MCP endpoint URLs (different workspaces). */
export interface ProxyTarget {
  mcpUrls: string[];
  /** The MCP tool the harness calls to make the proxy reach the upstream API. */
  tool: string;
  /** How long the proxy keeps an upstream `state` valid, when known (seconds). */
  stateTtl?: number;
  /** The proxy's grace window for a replayed downstream refresh token, when known (seconds). */
  refreshGrace?: number;
  /** Restarts the proxy with its data kept; only where the harness started it. */
  restart?: () => Promise<void>;
}

/** The instrumented upstream (our test server) and its control API. */
export interface UpstreamTarget {
  url: string;
  controlToken: string;
  username?: string;
  password?: string;
}

export interface Targets {
  as?: AsTarget;
  proxy?: ProxyTarget;
  upstream?: UpstreamTarget;
}

export interface RunOptions {
  /** fast-check seed shared by every property of the run. */
  seed: number;
  /** Upper bound on cases per property (checks may cap it lower for slow flows). */
  runs: number;
  /** Replay one case: fast-check's counterexample path (needs `seed`, and one check). */
  path?: string;
  /** Per-check timeout, ms. */
  timeoutMs: number;
  /** Command prefix that reproduces the targets, for replay lines. */
  replayPrefix: string;
}

/** What a check may use while it runs. */
export interface CheckContext {
  targets: Targets;
  options: RunOptions;
  signal: AbortSignal;
  /** Runs a fast-check property with the run's seed and path; throws PropertyFailure on failure. */
  property<Ts extends [unknown, ...unknown[]]>(
    arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
    predicate: (...args: Ts) => Promise<void>,
    options?: { maxRuns?: number },
  ): Promise<void>;
  /** A note kept in the report (what was observed), e.g. "4 upstream refreshes for 1 expiry". */
  note(text: string): void;
}

/** What a check needs from the targets; missing needs skip the check with a named reason. */
export type Need = 'as' | 'proxy' | 'upstream' | 'second-workspace' | 'restart';

export interface Check {
  /** Stable id, `<suite>-<what>`: used by --check, in reports and in replay lines. */
  id: string;
  title: string;
  /** The spec clause enforced, e.g. 'RFC 7636 §4.6'. */
  clause: string;
  link: string;
  level: Level;
  suite: string;
  needs: Need[];
  /** Overrides the run's per-check timeout, for checks that wait on clocks. */
  timeoutMs?: number;
  run(ctx: CheckContext): Promise<void>;
}

export type CheckStatus = 'passed' | 'failed' | 'error' | 'skipped';

/** A failed property: everything needed to reproduce it. */
export interface PropertyFailureDetails {
  seed: number;
  path: string;
  numRuns: number;
  numShrinks: number;
  /** The shrunk counterexample, printed with fast-check's stringify. */
  counterexample: string;
  replay: string;
}

export interface CheckResult {
  id: string;
  title: string;
  suite: string;
  clause: string;
  link: string;
  level: Level;
  status: CheckStatus;
  durationMs: number;
  /** Why it failed, errored or was skipped. */
  message?: string;
  property?: PropertyFailureDetails;
  /** Cases run by the check's property (0 for example-based checks). */
  cases: number;
  notes: string[];
}

export interface RunReport {
  schemaVersion: 1;
  tool: { name: 'mcp-oauth-conformance'; version: string };
  startedAt: string;
  durationMs: number;
  seed: number;
  runs: number;
  targets: { as?: string; proxy?: string[]; upstream?: string };
  summary: {
    total: number;
    passed: number;
    failed: number;
    errors: number;
    skipped: number;
    mustFailures: number;
    cases: number;
  };
  results: CheckResult[];
}
