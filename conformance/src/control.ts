/**
 * A client for the instrumented upstream's control API (/__control): counters, events, TTLs. It
 * is the harness's only window into what the upstream saw, so the proxy stays a black box.
 */
import { isObject, type JsonObject } from './oauth/json';
import type { UpstreamTarget } from './types';

export interface UpstreamEvent {
  seq: number;
  at: string;
  kind: 'token' | 'api' | 'authorize' | 'register' | 'revoke' | 'introspect';
  method: string;
  path: string;
  status: number;
  client_id?: string;
  grant_type?: string;
  error?: string;
  token_sha256?: string;
  refresh_token_sha256?: string;
  refresh_token_reused?: boolean;
}

export interface GrantCounter {
  requests: number;
  ok: number;
  errors: number;
}

export interface UpstreamCounters {
  endpoints: Record<string, number>;
  grants: Record<string, GrantCounter>;
  errors: Record<string, number>;
}

export class ControlClient {
  constructor(private readonly target: UpstreamTarget) {}

  private async call(method: string, path: string, body?: unknown): Promise<JsonObject> {
    const response = await fetch(new URL(`/__control${path}`, this.target.url), {
      method,
      headers: {
        authorization: `Bearer ${this.target.controlToken}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(
        `control API ${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`,
      );
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (!isObject(parsed)) throw new Error(`control API ${method} ${path}: not a JSON object`);
    return parsed;
  }

  async state(): Promise<JsonObject> {
    return this.call('GET', '/state');
  }

  async counters(): Promise<UpstreamCounters> {
    const body = await this.call('GET', '/counters');
    return {
      endpoints: (isObject(body.endpoints) ? body.endpoints : {}) as Record<string, number>,
      grants: (isObject(body.grants) ? body.grants : {}) as Record<string, GrantCounter>,
      errors: (isObject(body.errors) ? body.errors : {}) as Record<string, number>,
    };
  }

  /** Events after `since` (exclusive). */
  async events(since = 0): Promise<UpstreamEvent[]> {
    const body = await this.call('GET', `/events?since=${since}`);
    return Array.isArray(body.events) ? (body.events as UpstreamEvent[]) : [];
  }

  /** The highest event sequence number so far (0 when none). */
  async lastSeq(): Promise<number> {
    const events = await this.events(0);
    return events.reduce((max, e) => Math.max(max, e.seq), 0);
  }

  async setTtl(ttl: {
    accessToken?: number;
    refreshToken?: number;
    authorizationCode?: number;
  }): Promise<JsonObject> {
    return this.call('PUT', '/ttl', ttl);
  }

  /** Arms a fault (e.g. an oauth_error on refresh_token grants); `times: 0` = until cleared. */
  async addFault(fault: {
    target: 'token' | 'api';
    kind: 'oauth_error' | 'status' | 'delay' | 'drop';
    grant_type?: string;
    error?: string;
    status?: number;
    times?: number;
  }): Promise<JsonObject> {
    return this.call('POST', '/faults', fault);
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }
}

/** Requests counted for one grant type between two counter snapshots. */
export function grantDelta(
  before: UpstreamCounters,
  after: UpstreamCounters,
  grant: string,
): GrantCounter {
  const a = before.grants[grant] ?? { requests: 0, ok: 0, errors: 0 };
  const b = after.grants[grant] ?? { requests: 0, ok: 0, errors: 0 };
  return { requests: b.requests - a.requests, ok: b.ok - a.ok, errors: b.errors - a.errors };
}
