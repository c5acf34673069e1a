/**
 * What the control API reports: request counters per endpoint and grant type, error counts, and
 * an ordered event log that tests read with `?since=<seq>`.
 */

export type EventKind = 'token' | 'api' | 'authorize' | 'register' | 'revoke' | 'introspect';

export interface ServerEvent {
  seq: number;
  /** ISO timestamp. */
  at: string;
  kind: EventKind;
  method: string;
  path: string;
  status: number;
  client_id?: string;
  grant_type?: string;
  error?: string;
  /** Hex SHA-256 of the bearer token presented to the API. */
  token_sha256?: string;
  /** Hex SHA-256 of the refresh token presented to /auth/token. */
  refresh_token_sha256?: string;
  /** True when that refresh token had already been redeemed successfully. */
  refresh_token_reused?: boolean;
  /** Set when an injected fault answered instead of the server. */
  fault_id?: string;
}

export interface GrantCounter {
  requests: number;
  ok: number;
  errors: number;
}

export interface Counters {
  endpoints: Record<string, number>;
  grants: Record<string, GrantCounter>;
  errors: Record<string, number>;
}

/** Keeps at most this many events; older ones are dropped first. */
const MAX_EVENTS = 10_000;

/** Counts requests and logs events for the control API. */
export class Recorder {
  #seq = 0;
  #events: ServerEvent[] = [];
  #counters: Counters = { endpoints: {}, grants: {}, errors: {} };
  readonly #now: () => Date;
  readonly #onRecord: ((event: ServerEvent) => void) | undefined;

  constructor(options: { now?: () => Date; onRecord?: (event: ServerEvent) => void } = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#onRecord = options.onRecord;
  }

  /** Counts one request to `endpoint` (e.g. `token`, `api:listItems`). */
  hit(endpoint: string): void {
    this.#counters.endpoints[endpoint] = (this.#counters.endpoints[endpoint] ?? 0) + 1;
  }

  /** Appends an event and updates the grant and error counters from it. */
  record(event: Omit<ServerEvent, 'seq' | 'at'>): ServerEvent {
    this.#seq += 1;
    const full: ServerEvent = { seq: this.#seq, at: this.#now().toISOString(), ...event };
    this.#events.push(full);
    if (this.#events.length > MAX_EVENTS) this.#events.shift();
    if (event.kind === 'token' && event.grant_type) {
      const counter = this.#counters.grants[event.grant_type] ?? { requests: 0, ok: 0, errors: 0 };
      counter.requests += 1;
      if (event.status >= 200 && event.status < 300) counter.ok += 1;
      else counter.errors += 1;
      this.#counters.grants[event.grant_type] = counter;
    }
    if (event.error) {
      this.#counters.errors[event.error] = (this.#counters.errors[event.error] ?? 0) + 1;
    }
    this.#onRecord?.(full);
    return full;
  }

  counters(): Counters {
    return structuredClone(this.#counters);
  }

  /** Events with `seq` greater than `since`. */
  events(since = 0): ServerEvent[] {
    return this.#events.filter((e) => e.seq > since);
  }

  /** Clears counters and events; sequence numbers keep growing so `since` stays meaningful. */
  reset(): void {
    this.#events = [];
    this.#counters = { endpoints: {}, grants: {}, errors: {} };
  }
}

/** One line of the request log the CLI prints (never a token, only its hash prefix). */
export function formatEvent(event: ServerEvent): string {
  const parts = [
    event.at.slice(11, 23),
    event.method.padEnd(6),
    event.path,
    '→',
    String(event.status),
  ];
  if (event.grant_type) parts.push(`grant=${event.grant_type}`);
  if (event.client_id) parts.push(`client=${event.client_id}`);
  if (event.error) parts.push(`error=${event.error}`);
  if (event.refresh_token_reused) parts.push('refresh_token_reused');
  if (event.fault_id) parts.push(`fault=${event.fault_id.slice(0, 8)}`);
  return parts.join(' ');
}
