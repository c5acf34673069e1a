/**
 * The upstream token lifecycle: the access token that goes on each tool call, refreshed before it
 * expires and once more on an upstream 401, with exactly one upstream refresh per grant however
 * many calls wait for it (single-flight), the rotated refresh token persisted before the new
 * access token is handed out, bounded retries on 5xx/timeouts, and invalid_grant as terminal.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallContext, UpstreamCredentials, Workspace } from '../types';
import { GrantError, isGrantRevoked } from './errors';
import type { OAuthRepository, UpstreamTokenSet } from './repository';
import { revokeUpstreamInBackground, type UpstreamOAuth, UpstreamOAuthError } from './upstream';

export { GrantError, type GrantErrorCode } from './errors';

export interface TokenLifecycleOptions {
  repo: OAuthRepository;
  upstream: UpstreamOAuth;
  clock: () => number;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
  /** Retries after the first refresh attempt on 5xx/timeouts (default 3). */
  retries?: number;
  /** First backoff delay; doubled per retry (default 200 ms). */
  backoffMs?: number;
  /**
   * How long a process may hold a grant's refresh before others take over (default 30 s): the
   * wait another process sees if the holder dies mid-refresh.
   */
  leaseMs?: number;
}

const LEASE_POLL_MS = 25;

/** Refresh this long before expiry: 60 s, or 10% of the token's lifetime when that is less. */
export function refreshSkewMs(tokens: UpstreamTokenSet): number {
  if (tokens.expiresAt === undefined) return 0;
  return Math.min(60_000, Math.max(0, (tokens.expiresAt - tokens.obtainedAt) * 0.1));
}

/** True when the token should be refreshed before being used at `now`. */
export function needsRefresh(tokens: UpstreamTokenSet, now: number): boolean {
  return tokens.expiresAt !== undefined && now >= tokens.expiresAt - refreshSkewMs(tokens);
}

const isUsable = (tokens: UpstreamTokenSet, now: number): boolean =>
  tokens.expiresAt === undefined || now < tokens.expiresAt;

/** Holds the refreshes in flight, one per grant (and one per workspace service token). */
export class TokenLifecycle {
  private readonly options: TokenLifecycleOptions;
  private readonly inflight = new Map<string, Promise<UpstreamTokenSet>>();
  /** This lifecycle's name on refresh leases. */
  private readonly holder = randomUUID();

  constructor(options: TokenLifecycleOptions) {
    this.options = options;
  }

  /** The upstream access token for a grant, refreshed first when it is about to expire. */
  async grantAccessToken(workspace: Workspace, grantId: string): Promise<string> {
    const tokens = this.liveGrant(workspace, grantId).upstream;
    const now = this.options.clock();
    if (!needsRefresh(tokens, now)) return tokens.accessToken;
    try {
      return (await this.refreshGrant(workspace, grantId, tokens.accessToken)).accessToken;
    } catch (error) {
      if (
        error instanceof GrantError &&
        error.code === 'ERR_UPSTREAM_UNAVAILABLE' &&
        isUsable(tokens, this.options.clock())
      ) {
        return tokens.accessToken;
      }
      throw error;
    }
  }

  /**
   * Checks a grant before an MCP request is served: its upstream token is refreshed now when it is
   * expired or inside the skew (sharing the refresh with any call already running it). Throws a
   * GrantError ERR_GRANT_REVOKED when the grant is gone or the upstream refused the refresh for
   * good (invalid_grant: the grant is dropped); other failures are left for the tool call to report.
   */
  async checkGrant(workspace: Workspace, grantId: string): Promise<void> {
    try {
      await this.grantAccessToken(workspace, grantId);
    } catch (error) {
      if (isGrantRevoked(error)) throw error;
    }
  }

  /**
   * Refreshes a grant unless the token `stale` was already replaced; concurrent callers share one
   * upstream refresh. Resolves with the grant's current tokens.
   */
  refreshGrant(workspace: Workspace, grantId: string, stale: string): Promise<UpstreamTokenSet> {
    const running = this.inflight.get(grantId);
    if (running !== undefined) return running;
    const current = this.liveGrant(workspace, grantId);
    if (current.upstream.accessToken !== stale) return Promise.resolve(current.upstream);
    const refresh = this.runGrantRefresh(workspace, grantId, current.upstreamVersion).finally(
      () => {
        this.inflight.delete(grantId);
      },
    );
    this.inflight.set(grantId, refresh);
    return refresh;
  }

  private async runGrantRefresh(
    workspace: Workspace,
    grantId: string,
    seenVersion: number,
  ): Promise<UpstreamTokenSet> {
    // Across processes sharing the store, a lease row makes the refresh single-flight too.
    const lease = await this.acquireLease(workspace, grantId, seenVersion);
    if (lease.done !== undefined) return lease.done;
    try {
      return await this.refreshHeld(workspace, grantId);
    } finally {
      this.options.repo.releaseLease(grantId, this.holder);
    }
  }

  /** Takes the grant's refresh lease, or returns the tokens another holder produced meanwhile. */
  private async acquireLease(
    workspace: Workspace,
    grantId: string,
    seenVersion: number,
  ): Promise<{ done?: UpstreamTokenSet }> {
    const leaseMs = this.options.leaseMs ?? 30_000;
    for (;;) {
      const now = this.options.clock();
      const acquired = this.options.repo.acquireLease(grantId, this.holder, now + leaseMs, now);
      const current = this.liveGrant(workspace, grantId);
      if (current.upstreamVersion !== seenVersion) {
        if (acquired) this.options.repo.releaseLease(grantId, this.holder);
        return { done: current.upstream };
      }
      if (acquired) return {};
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
    }
  }

  private async refreshHeld(workspace: Workspace, grantId: string): Promise<UpstreamTokenSet> {
    const grant = this.liveGrant(workspace, grantId);
    const refreshToken = grant.upstream.refreshToken;
    if (refreshToken === undefined) {
      this.dropGrant(workspace, grantId, 'the upstream gave no refresh token');
      throw new GrantError(
        'ERR_GRANT_REVOKED',
        'the upstream token expired and cannot be refreshed',
      );
    }
    const tokens = await this.withRetries(() =>
      this.options.upstream.refresh(workspace, refreshToken),
    ).catch((error: unknown) => {
      if (error instanceof UpstreamOAuthError && error.code === 'ERR_UPSTREAM_INVALID_GRANT') {
        this.dropGrant(workspace, grantId, 'the upstream answered invalid_grant');
        throw new GrantError('ERR_GRANT_REVOKED', 'the upstream refused the refresh token');
      }
      throw new GrantError(
        'ERR_UPSTREAM_UNAVAILABLE',
        error instanceof Error ? error.message : String(error),
      );
    });
    // One synchronous UPDATE: the rotated refresh token is durable before anyone sees the new access token.
    if (this.options.repo.replaceUpstream(grantId, grant.upstreamVersion, tokens)) {
      this.options.logger?.info({ grantId, workspace: workspace.id }, 'upstream token refreshed');
      return tokens;
    }
    // Another writer got there first (its lease had expired): its tokens are the current ones.
    return this.liveGrant(workspace, grantId).upstream;
  }

  /** The workspace's client_credentials token, obtained or renewed when needed. */
  async serviceAccessToken(workspace: Workspace): Promise<string> {
    const tokens = this.options.repo.getServiceToken(workspace.id);
    if (tokens !== undefined && !needsRefresh(tokens, this.options.clock())) {
      return tokens.accessToken;
    }
    try {
      return (await this.renewServiceToken(workspace, tokens?.accessToken)).accessToken;
    } catch (error) {
      if (tokens !== undefined && isUsable(tokens, this.options.clock())) return tokens.accessToken;
      throw error;
    }
  }

  /** Gets a new service token unless `stale` was already replaced; one upstream request at a time. */
  renewServiceToken(workspace: Workspace, stale: string | undefined): Promise<UpstreamTokenSet> {
    const key = `service:${workspace.id}`;
    const running = this.inflight.get(key);
    if (running !== undefined) return running;
    const current = this.options.repo.getServiceToken(workspace.id);
    if (current !== undefined && current.accessToken !== stale) return Promise.resolve(current);
    const renew = this.withRetries(() => this.options.upstream.clientCredentials(workspace))
      .then((tokens) => {
        this.options.repo.saveServiceToken(workspace.id, tokens, this.options.clock());
        return tokens;
      })
      .catch((error: unknown) => {
        throw new GrantError(
          'ERR_UPSTREAM_UNAVAILABLE',
          error instanceof Error ? error.message : String(error),
        );
      })
      .finally(() => {
        this.inflight.delete(key);
      });
    this.inflight.set(key, renew);
    return renew;
  }

  private liveGrant(
    workspace: Workspace,
    grantId: string,
  ): { upstream: UpstreamTokenSet; upstreamVersion: number } {
    const grant = this.options.repo.getGrant(grantId);
    if (
      grant === undefined ||
      grant.revokedAt !== undefined ||
      grant.upstream === undefined ||
      grant.workspaceId !== workspace.id
    ) {
      throw new GrantError('ERR_GRANT_REVOKED', 'the grant is revoked; authorize again');
    }
    return { upstream: grant.upstream, upstreamVersion: grant.upstreamVersion };
  }

  /** Revokes the grant, and its upstream tokens at the upstream in the background. */
  private dropGrant(workspace: Workspace, grantId: string, reason: string): void {
    const upstream = this.options.repo.revokeGrant(grantId, this.options.clock());
    this.options.logger?.warn({ grantId, reason }, 'grant revoked');
    void revokeUpstreamInBackground(this.options.upstream, workspace, upstream, {
      grantId,
      logger: this.options.logger,
    });
  }

  private async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    const retries = this.options.retries ?? 3;
    const backoff = this.options.backoffMs ?? 200;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        const retryable =
          error instanceof UpstreamOAuthError && error.code === 'ERR_UPSTREAM_UNAVAILABLE';
        if (!retryable || n >= retries) throw error;
        await sleep(backoff * 2 ** n);
      }
    }
  }
}

/**
 * UpstreamCredentials for an oauth2 workspace: the grant's upstream token (authorization_code) or
 * the workspace's service token (client_credentials), refreshed before expiry and once on a 401.
 */
export function oauthCredentials(lifecycle: TokenLifecycle): UpstreamCredentials {
  const handedOut = new WeakMap<CallContext, string>();
  return {
    async headers(ctx) {
      const token = await tokenFor(lifecycle, ctx);
      handedOut.set(ctx, token);
      return { Authorization: `Bearer ${token}` };
    },
    async onUnauthorized(ctx) {
      const stale = handedOut.get(ctx);
      if (stale === undefined) return false;
      try {
        const fresh = usesServiceToken(ctx)
          ? await lifecycle.renewServiceToken(ctx.workspace, stale)
          : await lifecycle.refreshGrant(ctx.workspace, requireGrant(ctx), stale);
        return fresh.accessToken !== stale;
      } catch (error) {
        // A grant ended for good reaches the MCP endpoint, which answers 401 when it still can.
        if (isGrantRevoked(error)) throw error;
        return false;
      }
    },
  };
}

function usesServiceToken(ctx: CallContext): boolean {
  return ctx.workspace.auth.type === 'oauth2' && ctx.workspace.auth.grant === 'client_credentials';
}

function requireGrant(ctx: CallContext): string {
  if (ctx.grantId === undefined) {
    throw new GrantError('ERR_GRANT_REVOKED', 'this call carries no OAuth grant');
  }
  return ctx.grantId;
}

function tokenFor(lifecycle: TokenLifecycle, ctx: CallContext): Promise<string> {
  return usesServiceToken(ctx)
    ? lifecycle.serviceAccessToken(ctx.workspace)
    : lifecycle.grantAccessToken(ctx.workspace, requireGrant(ctx));
}
