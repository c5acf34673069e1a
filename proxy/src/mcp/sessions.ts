/**
 * The MCP sessions of the endpoint: each one owns its Server and transport, is bound to the
 * workspace and the principal that initialized it, and lives in a table bounded in size (least
 * recently used idle session evicted first, per principal and overall) and in idle time. A session
 * serving a request or holding its SSE stream open is busy, not idle: a connected client that
 * just has nothing to ask keeps its session.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */

/** What the table needs of a session. */
export interface McpSession {
  readonly id: string;
  readonly workspaceId: string;
  /** Who initialized it: a grant id, or a hash of the credential presented. */
  readonly principal: string;
  /** Whether a request or the SSE stream of the session is open right now. */
  busy(): boolean;
  /** Ends the session (server and transport); called once by the table. Never rejects. */
  close(): Promise<void>;
}

export interface SessionTableOptions {
  /** Sessions kept at most; the least recently used goes first. Default 1000. */
  maxSessions?: number;
  /** Sessions one principal keeps at most, so that one client cannot evict all others. Default 100. */
  maxSessionsPerPrincipal?: number;
  /** A session unused this long is closed. Default 30 minutes. */
  idleTimeoutMs?: number;
  /** The clock, in ms. Default `Date.now`. */
  now?: () => number;
  /** Closes idle sessions on this period even without traffic; 0 disables. Default 60 s. */
  sweepIntervalMs?: number;
}

interface Entry<S> {
  session: S;
  lastUsed: number;
}

/** Why a session left the table, for the log. */
export type SessionEnd = 'expired' | 'evicted' | 'closed';

/**
 * A bounded session table. A Map keeps insertion order, and each use re-inserts its entry, so the
 * first entries are always the least recently used: eviction and expiry look at the front, and a
 * busy session found there counts as used now.
 */
export class SessionTable<S extends McpSession> {
  readonly #entries = new Map<string, Entry<S>>();
  readonly #perPrincipal = new Map<string, number>();
  readonly #max: number;
  readonly #maxPerPrincipal: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onEnd: (session: S, why: SessionEnd) => void;

  constructor(options: SessionTableOptions = {}, onEnd: (session: S, why: SessionEnd) => void) {
    this.#max = positive('maxSessions', options.maxSessions ?? 1000);
    this.#maxPerPrincipal = positive(
      'maxSessionsPerPrincipal',
      options.maxSessionsPerPrincipal ?? 100,
    );
    this.#idleMs = positive('idleTimeoutMs', options.idleTimeoutMs ?? 30 * 60_000);
    this.#now = options.now ?? Date.now;
    this.#onEnd = onEnd;
    const period = options.sweepIntervalMs ?? 60_000;
    if (period > 0) {
      this.#timer = setInterval(() => this.sweep(), period);
      this.#timer.unref();
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Adds a new session, first closing expired ones and then the least recently used over a bound. */
  add(session: S): void {
    this.sweep();
    if ((this.#perPrincipal.get(session.principal) ?? 0) >= this.#maxPerPrincipal) {
      const victim = this.#leastRecentlyUsed((s) => s.principal === session.principal);
      if (victim !== undefined) this.#end(victim, 'evicted');
    }
    while (this.#entries.size >= this.#max) {
      const victim = this.#leastRecentlyUsed(() => true);
      if (victim === undefined) break;
      this.#end(victim, 'evicted');
    }
    this.#entries.set(session.id, { session, lastUsed: this.#now() });
    this.#perPrincipal.set(session.principal, (this.#perPrincipal.get(session.principal) ?? 0) + 1);
  }

  /**
   * The session `id` when it exists, is not expired and is bound to this workspace and principal;
   * it then counts as used. A session presented by anyone else is not touched.
   */
  use(id: string, workspaceId: string, principal: string): S | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    const now = this.#now();
    if (now - entry.lastUsed >= this.#idleMs && !entry.session.busy()) {
      this.#end(id, 'expired');
      return undefined;
    }
    if (entry.session.workspaceId !== workspaceId || entry.session.principal !== principal) {
      return undefined;
    }
    entry.lastUsed = now;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return entry.session;
  }

  /** Whether `id` is in the table, whoever it is bound to. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Removes a session that ended by itself (DELETE, transport closed) without closing it again. */
  remove(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#forget(entry.session.principal);
  }

  /** Closes the sessions idle for longer than the timeout. */
  sweep(): void {
    const now = this.#now();
    const busy: Array<[string, Entry<S>]> = [];
    for (const [id, entry] of this.#entries) {
      if (now - entry.lastUsed < this.#idleMs) break;
      if (entry.session.busy()) busy.push([id, entry]);
      else this.#end(id, 'expired');
    }
    for (const [id, entry] of busy) {
      entry.lastUsed = now;
      this.#entries.delete(id);
      this.#entries.set(id, entry);
    }
  }

  /** Closes every session and stops the sweep timer. */
  async closeAll(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    const sessions = [...this.#entries.values()].map((e) => e.session);
    this.#entries.clear();
    this.#perPrincipal.clear();
    await Promise.all(
      sessions.map((session) => {
        this.#onEnd(session, 'closed');
        return session.close();
      }),
    );
  }

  /** The least recently used matching session that is idle, else the least recently used one. */
  #leastRecentlyUsed(matches: (session: S) => boolean): string | undefined {
    let fallback: string | undefined;
    for (const [id, { session }] of this.#entries) {
      if (!matches(session)) continue;
      if (!session.busy()) return id;
      fallback ??= id;
    }
    return fallback;
  }

  #end(id: string, why: SessionEnd): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#forget(entry.session.principal);
    this.#onEnd(entry.session, why);
    void entry.session.close();
  }

  #forget(principal: string): void {
    const count = (this.#perPrincipal.get(principal) ?? 0) - 1;
    if (count > 0) this.#perPrincipal.set(principal, count);
    else this.#perPrincipal.delete(principal);
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw Object.assign(new TypeError(`${name} must be a positive number`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  return value;
}
