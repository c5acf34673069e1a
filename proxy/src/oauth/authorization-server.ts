/**
 * The proxy's OAuth 2.1 authorization server toward MCP clients, one per workspace: client
 * registration (RFC 7591), consent, the upstream leg, the proxy's own codes and tokens (opaque,
 * stored as sha256 hashes, audience-bound to the workspace), rotation and revocation. It is an
 * `OAuthServerProvider` so the MCP SDK's endpoint handlers do the request parsing and PKCE check.
 */
import { randomUUID } from 'node:crypto';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import {
  CustomOAuthError,
  InvalidClientMetadataError,
  InvalidGrantError,
  InvalidScopeError,
  InvalidTargetError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type {
  AuthorizationParams,
  OAuthServerProvider,
} from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type {
  OAuthClientInformationFull,
  OAuthTokenRevocationRequest,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Request, Response } from 'express';
import * as oauth from 'oauth4webapi';
import type { Logger } from 'pino';
import type { OAuth2UpstreamAuth, Workspace } from '../types';
import { sendConsentPage, sendErrorPage } from './pages';
import type { FlowRecord, OAuthRepository, TokenRecord } from './repository';
import { randomToken, safeEqual, sha256Hex } from './tokens';
import { classify, revokeUpstreamInBackground, type UpstreamOAuth } from './upstream';

/** Lifetimes and limits of the proxy's own artifacts (ms). */
export interface AuthorizationServerTimings {
  accessTokenTtl: number;
  refreshTokenTtl: number;
  codeTtl: number;
  flowTtl: number;
  /** How long a rotated refresh token may still be replayed before the family is revoked. */
  refreshGrace: number;
}

export const DEFAULT_TIMINGS: AuthorizationServerTimings = {
  accessTokenTtl: 3_600_000,
  refreshTokenTtl: 30 * 86_400_000,
  codeTtl: 60_000,
  flowTtl: 600_000,
  refreshGrace: 10_000,
};

export const BROWSER_COOKIE = 'mcp_proxy_browser';

/** What MCP clients may register: secrets (Basic or form body, either accepted) or none (public). */
const CLIENT_AUTH_METHODS = ['none', 'client_secret_post', 'client_secret_basic'];

export interface AuthorizationServerDeps {
  repo: OAuthRepository;
  upstream: UpstreamOAuth;
  /** Without a trailing slash, e.g. `http://localhost:8080`. */
  publicUrl: string;
  clock: () => number;
  logger?: Logger;
  timings: AuthorizationServerTimings;
}

/** The URLs a workspace's authorization server lives at. */
export function workspaceUrls(publicUrl: string, workspaceId: string) {
  const issuer = `${publicUrl}/oauth/${workspaceId}`;
  return {
    /** The MCP endpoint: the `resource` every token is bound to. */
    resource: `${publicUrl}/mcp/${workspaceId}`,
    resourceMetadata: `${publicUrl}/.well-known/oauth-protected-resource/mcp/${workspaceId}`,
    issuer,
    authorizationServerMetadata: `${publicUrl}/.well-known/oauth-authorization-server/oauth/${workspaceId}`,
    authorize: `${issuer}/authorize`,
    consent: `${issuer}/consent`,
    token: `${issuer}/token`,
    register: `${issuer}/register`,
    revoke: `${issuer}/revoke`,
    callback: `${publicUrl}/oauth/callback`,
  };
}

/** The OAuth settings of an oauth2 workspace; throws for other auth types. */
export function oauth2Of(workspace: Workspace): OAuth2UpstreamAuth {
  if (workspace.auth.type !== 'oauth2') {
    throw Object.assign(new TypeError(`workspace ${workspace.id} does not use oauth2`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  return workspace.auth;
}

/** The `browser` cookie's value, creating and setting it when the browser has none. */
export function browserId(req: Request, res: Response, secure: boolean): string {
  const existing = readCookie(req, BROWSER_COOKIE);
  if (existing !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const id = randomToken();
  res.cookie(BROWSER_COOKIE, id, {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: 365 * 86_400_000,
  });
  return id;
}

/** A cookie's value from the request's Cookie header. */
export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name)
      return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

const isLoopback = (host: string) =>
  host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

/** Redirect URIs a client may register: https, or http on a loopback host (RFC 8252 §7.3). */
export function acceptableRedirectUri(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.hash !== '') return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopback(url.hostname);
}

/** One workspace's authorization server. */
export class WorkspaceAuthorizationServer implements OAuthServerProvider {
  readonly workspaceId: string;
  private readonly deps: AuthorizationServerDeps;
  private readonly getWorkspace: () => Workspace | undefined;

  constructor(
    deps: AuthorizationServerDeps,
    workspaceId: string,
    getWorkspace: () => Workspace | undefined,
  ) {
    this.deps = deps;
    this.workspaceId = workspaceId;
    this.getWorkspace = getWorkspace;
  }

  get urls() {
    return workspaceUrls(this.deps.publicUrl, this.workspaceId);
  }

  private workspace(): Workspace {
    const workspace = this.getWorkspace();
    if (workspace === undefined || workspace.auth.type !== 'oauth2') {
      throw new InvalidTargetError('this workspace no longer exists');
    }
    return workspace;
  }

  /** The scopes MCP clients may ask for: the workspace's upstream scopes. */
  supportedScopes(): string[] {
    const workspace = this.getWorkspace();
    return workspace?.auth.type === 'oauth2' ? workspace.auth.scopes : [];
  }

  get clientsStore(): OAuthRegisteredClientsStore {
    const { repo, clock } = this.deps;
    const workspaceId = this.workspaceId;
    return {
      getClient(clientId) {
        const record = repo.getClient(clientId);
        if (record === undefined || record.workspaceId !== workspaceId) return undefined;
        // No secret: only its hash is stored, and clientAuthentication checked it before the SDK runs.
        return {
          ...(record.metadata as Omit<OAuthClientInformationFull, 'client_id'>),
          client_id: record.clientId,
        };
      },
      registerClient(client) {
        const uris = client.redirect_uris ?? [];
        if (uris.length === 0 || !uris.every((uri) => acceptableRedirectUri(String(uri)))) {
          throw new CustomOAuthError(
            'invalid_redirect_uri',
            'redirect URIs must be https, or http on localhost/127.0.0.1',
          );
        }
        // Any other method is refused rather than registered and then never honoured; an absent
        // one means client_secret_basic (RFC 7591 §2).
        const method = client.token_endpoint_auth_method ?? 'client_secret_basic';
        if (!CLIENT_AUTH_METHODS.includes(method)) {
          throw new InvalidClientMetadataError(
            `token_endpoint_auth_method must be one of ${CLIENT_AUTH_METHODS.join(', ')}`,
          );
        }
        const full = {
          ...(client as OAuthClientInformationFull),
          token_endpoint_auth_method: method,
        };
        const clientId = full.client_id ?? randomUUID();
        const { client_secret: secret, ...metadata } = { ...full, client_id: clientId };
        // The secret goes back to the client once, in this response; the store keeps its hash.
        repo.saveClient({
          clientId,
          workspaceId,
          metadata,
          clientSecretHash: secret === undefined ? undefined : sha256Hex(secret),
          createdAt: clock(),
        });
        return { ...full, client_id: clientId };
      },
    };
  }

  /** Starts an authorization: checks the resource, then consent (or remembered consent). */
  async authorize(
    client: OAuthClientInformationFull,
    params: AuthorizationParams,
    res: Response,
  ): Promise<void> {
    const workspace = this.workspace();
    // RFC 8707 §2 lets an authorization server use a default resource when none is sent. This one
    // serves exactly one resource, so the default is the workspace and every token stays bound to
    // it; MCP clients (mcp-remote, the SDK client) send it anyway, as the MCP spec requires of them.
    const resource = params.resource?.href ?? this.urls.resource;
    if (!sameResource(resource, this.urls.resource)) {
      throw new InvalidTargetError(`resource must be ${this.urls.resource}`);
    }
    const supported = this.supportedScopes();
    const requested = (params.scopes ?? []).filter((s) => supported.includes(s));
    const scopes = requested.length > 0 ? requested : supported;
    const now = this.deps.clock();
    const browser = browserId(res.req, res, this.deps.publicUrl.startsWith('https:'));
    const browserHash = sha256Hex(browser);
    const flowId = randomToken();
    const csrf = randomToken();
    const flow: FlowRecord = {
      idHash: sha256Hex(flowId),
      workspaceId: workspace.id,
      clientId: client.client_id,
      redirectUri: params.redirectUri,
      codeChallenge: params.codeChallenge,
      clientState: params.state,
      scopes,
      browserHash,
      csrfHash: sha256Hex(csrf),
      stage: 'consent',
      expiresAt: now + this.deps.timings.flowTtl,
      createdAt: now,
    };
    this.deps.repo.saveFlow(flow);
    const remembered = this.deps.repo.consentedScopes(browserHash, workspace.id, client.client_id);
    if (remembered !== undefined && scopes.every((s) => remembered.includes(s))) {
      await this.continueAfterConsent(workspace, flow, res);
      return;
    }
    const auth = oauth2Of(workspace);
    sendConsentPage(res, {
      workspaceName: workspace.name,
      clientName: client.client_name ?? client.client_id,
      redirectUri: params.redirectUri,
      scopes,
      serviceCredentials: auth.grant === 'client_credentials',
      upstreamOrigin:
        auth.grant === 'client_credentials' ? undefined : await this.upstreamOrigin(workspace),
      action: this.urls.consent,
      flow: flowId,
      csrf,
    });
  }

  /** The origin of the upstream authorization URL (discovered for dcr/auto), for the consent page. */
  private async upstreamOrigin(workspace: Workspace): Promise<string | undefined> {
    const originOf = (url: string | undefined) => {
      try {
        return url === undefined ? undefined : new URL(url).origin;
      } catch {
        return undefined;
      }
    };
    const configured = oauth2Of(workspace).authorizationUrl;
    try {
      const resolved = await this.deps.upstream.resolve(workspace);
      return originOf(resolved.as.authorization_endpoint ?? configured);
    } catch {
      // The upstream redirect after consent reports the failure; the page names what it can.
      return originOf(configured);
    }
  }

  /** The consent form's POST: CSRF-checked and bound to the browser that saw the page. */
  async decide(req: Request, res: Response): Promise<void> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const flowId = typeof body.flow === 'string' ? body.flow : '';
    const csrf = typeof body.csrf === 'string' ? body.csrf : '';
    const browser = readCookie(req, BROWSER_COOKIE);
    const flow = flowId === '' ? undefined : this.deps.repo.getFlow(sha256Hex(flowId));
    const now = this.deps.clock();
    if (
      flow === undefined ||
      browser === undefined ||
      flow.workspaceId !== this.workspaceId ||
      flow.stage !== 'consent' ||
      flow.expiresAt < now ||
      !safeEqual(flow.browserHash, sha256Hex(browser)) ||
      !safeEqual(flow.csrfHash, sha256Hex(csrf))
    ) {
      sendErrorPage(
        res,
        400,
        'Authorization request expired',
        'This consent form is no longer valid.',
      );
      return;
    }
    if (body.decision !== 'approve') {
      if (this.deps.repo.finishFlow(flow.idHash, 'consent')) {
        res.redirect(302, clientRedirect(flow, { error: 'access_denied' }));
      } else sendErrorPage(res, 400, 'Authorization request expired', 'Already answered.');
      return;
    }
    const workspace = this.getWorkspace();
    if (workspace === undefined || workspace.auth.type !== 'oauth2') {
      sendErrorPage(res, 404, 'Unknown workspace', 'This workspace no longer exists.');
      return;
    }
    this.deps.repo.rememberConsent(flow.browserHash, workspace.id, flow.clientId, flow.scopes, now);
    await this.continueAfterConsent(workspace, flow, res);
  }

  /** After consent: the upstream authorize redirect, or (client_credentials) the proxy's code at once. */
  private async continueAfterConsent(
    workspace: Workspace,
    flow: FlowRecord,
    res: Response,
  ): Promise<void> {
    const auth = oauth2Of(workspace);
    if (auth.grant === 'client_credentials') {
      if (!this.deps.repo.finishFlow(flow.idHash, 'consent')) {
        sendErrorPage(res, 400, 'Authorization request expired', 'Already answered.');
        return;
      }
      res.redirect(302, this.issueCode(flow));
      return;
    }
    const state = auth.state ? oauth.generateRandomState() : undefined;
    const verifier = auth.pkce ? oauth.generateRandomCodeVerifier() : undefined;
    let target: URL;
    try {
      target = await this.deps.upstream.authorizationUrl(workspace, {
        state,
        codeVerifier: verifier,
      });
    } catch (error) {
      this.deps.logger?.error(
        { err: classify(error), workspace: workspace.id },
        'upstream authorize failed',
      );
      sendErrorPage(
        res,
        502,
        'Upstream unavailable',
        'The upstream authorization server could not be reached.',
      );
      return;
    }
    const started = this.deps.repo.startUpstream(
      flow.idHash,
      sha256Hex(state ?? randomToken()),
      verifier,
      this.deps.clock() + this.deps.timings.flowTtl,
    );
    if (!started) {
      sendErrorPage(res, 400, 'Authorization request expired', 'Already answered.');
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, target.href);
  }

  /**
   * The upstream's redirect back (`/oauth/callback`): the flow found by its state must belong to
   * this browser, be unused and unexpired; only then is the code exchanged and anything stored.
   */
  async callback(
    req: Request,
    res: Response,
    flow: FlowRecord,
    state: string | undefined,
  ): Promise<void> {
    const workspace = this.getWorkspace();
    if (workspace === undefined || workspace.auth.type !== 'oauth2') {
      sendErrorPage(res, 404, 'Unknown workspace', 'This workspace no longer exists.');
      return;
    }
    if (!this.deps.repo.finishFlow(flow.idHash, 'upstream')) {
      sendErrorPage(
        res,
        400,
        'Authorization failed',
        'This authorization response was already used.',
      );
      return;
    }
    const params = new URL(req.originalUrl, this.deps.publicUrl).searchParams;
    const upstreamError = params.get('error');
    if (upstreamError !== null) {
      res.redirect(
        302,
        clientRedirect(flow, {
          error: upstreamError === 'access_denied' ? 'access_denied' : 'server_error',
        }),
      );
      return;
    }
    let tokens: Awaited<ReturnType<UpstreamOAuth['exchangeCode']>>;
    try {
      tokens = await this.deps.upstream.exchangeCode(workspace, params, {
        state,
        codeVerifier: flow.upstreamVerifier,
      });
    } catch (error) {
      this.deps.logger?.warn(
        { err: classify(error), workspace: workspace.id },
        'upstream code exchange failed',
      );
      sendErrorPage(res, 502, 'Authorization failed', 'The upstream refused the authorization.');
      return;
    }
    res.redirect(302, this.issueCode(flow, tokens));
  }

  /** Creates the grant and the proxy's single-use code; returns the client redirect carrying it. */
  private issueCode(
    flow: FlowRecord,
    upstream?: Awaited<ReturnType<UpstreamOAuth['exchangeCode']>>,
  ): string {
    const now = this.deps.clock();
    const grantId = randomUUID();
    const code = randomToken();
    this.deps.repo.db.transaction(() => {
      this.deps.repo.createGrant({
        id: grantId,
        workspaceId: flow.workspaceId,
        clientId: flow.clientId,
        scopes: flow.scopes,
        upstream,
        upstreamVersion: 0,
        createdAt: now,
      });
      this.deps.repo.saveCode({
        codeHash: sha256Hex(code),
        grantId,
        clientId: flow.clientId,
        redirectUri: flow.redirectUri,
        codeChallenge: flow.codeChallenge,
        scopes: flow.scopes,
        expiresAt: now + this.deps.timings.codeTtl,
      });
    })();
    this.deps.logger?.info(
      { grantId, workspace: flow.workspaceId, client: flow.clientId },
      'grant created',
    );
    return clientRedirect(flow, { code, iss: this.urls.issuer });
  }

  async challengeForAuthorizationCode(
    client: OAuthClientInformationFull,
    authorizationCode: string,
  ): Promise<string> {
    return this.liveCode(client, authorizationCode).codeChallenge;
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    authorizationCode: string,
    _codeVerifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const code = this.liveCode(client, authorizationCode);
    if (redirectUri !== undefined && redirectUri !== code.redirectUri) {
      throw new InvalidGrantError('redirect_uri does not match the authorization request');
    }
    if (resource !== undefined && !sameResource(resource.href, this.urls.resource)) {
      throw new InvalidTargetError(`resource must be ${this.urls.resource}`);
    }
    const now = this.deps.clock();
    if (!this.deps.repo.useCode(code.codeHash, now)) {
      // A replayed code: whatever it yielded is revoked (RFC 6749 §4.1.2).
      this.dropGrant(code.grantId, now);
      throw new InvalidGrantError('invalid authorization code');
    }
    return this.issueTokens(client, code.grantId, code.scopes, true);
  }

  async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    refreshToken: string,
    scopes?: string[],
    resource?: URL,
  ): Promise<OAuthTokens> {
    const now = this.deps.clock();
    const record = this.deps.repo.getToken(sha256Hex(refreshToken));
    if (
      record === undefined ||
      record.kind !== 'refresh' ||
      record.clientId !== client.client_id ||
      record.workspaceId !== this.workspaceId ||
      record.revokedAt !== undefined ||
      record.expiresAt <= now ||
      !this.grantIsLive(record.grantId)
    ) {
      throw new InvalidGrantError('invalid refresh token');
    }
    if (resource !== undefined && !sameResource(resource.href, this.urls.resource)) {
      throw new InvalidTargetError(`resource must be ${this.urls.resource}`);
    }
    // Scopes this workspace never offers are ignored, as at /authorize; the rest must be granted.
    const supported = this.supportedScopes();
    const asked = (scopes ?? []).filter((s) => supported.includes(s));
    const granted = asked.length === 0 ? record.scopes : asked;
    if (!granted.every((s) => record.scopes.includes(s))) {
      throw new InvalidScopeError('scope exceeds the original grant');
    }
    const rotates = client.token_endpoint_auth_method === 'none';
    if (rotates && !this.deps.repo.markRotated(record.tokenHash, now)) {
      const rotatedAt =
        this.deps.repo.getToken(record.tokenHash)?.rotatedAt ?? record.rotatedAt ?? 0;
      if (now - rotatedAt > this.deps.timings.refreshGrace) {
        // Reuse of a rotated refresh token after the grace: the whole family goes (OAuth 2.1 §4.3.1).
        this.dropGrant(record.grantId, now);
        this.deps.logger?.warn({ grantId: record.grantId }, 'refresh token reuse: grant revoked');
        throw new InvalidGrantError('invalid refresh token');
      }
    }
    return this.issueTokens(client, record.grantId, granted, rotates, {
      keptRefresh: rotates ? undefined : refreshToken,
      refreshScopes: record.scopes,
    });
  }

  private issueTokens(
    client: OAuthClientInformationFull,
    grantId: string,
    scopes: string[],
    newRefresh: boolean,
    refresh: { keptRefresh?: string; refreshScopes?: string[] } = {},
  ): OAuthTokens {
    const { keptRefresh, refreshScopes = scopes } = refresh;
    const now = this.deps.clock();
    const { accessTokenTtl, refreshTokenTtl } = this.deps.timings;
    const accessToken = randomToken('mcp_at_');
    const refreshToken = newRefresh ? randomToken('mcp_rt_') : keptRefresh;
    const base: Omit<TokenRecord, 'tokenHash' | 'kind' | 'expiresAt'> = {
      grantId,
      clientId: client.client_id,
      workspaceId: this.workspaceId,
      scopes,
      createdAt: now,
    };
    this.deps.repo.db.transaction(() => {
      this.deps.repo.saveToken({
        ...base,
        tokenHash: sha256Hex(accessToken),
        kind: 'access',
        expiresAt: now + accessTokenTtl,
      });
      if (newRefresh && refreshToken !== undefined) {
        // A narrowed access token does not narrow the grant: the refresh token keeps its scopes.
        this.deps.repo.saveToken({
          ...base,
          scopes: refreshScopes,
          tokenHash: sha256Hex(refreshToken),
          kind: 'refresh',
          expiresAt: now + refreshTokenTtl,
        });
      }
    })();
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: Math.floor(accessTokenTtl / 1000),
      refresh_token: refreshToken,
      scope: scopes.join(' '),
    };
  }

  /** Checks a proxy access token presented at this workspace's MCP endpoint. */
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const record = this.deps.repo.getToken(sha256Hex(token));
    const now = this.deps.clock();
    if (
      record === undefined ||
      record.kind !== 'access' ||
      record.workspaceId !== this.workspaceId ||
      record.revokedAt !== undefined ||
      record.expiresAt <= now ||
      !this.grantIsLive(record.grantId)
    ) {
      throw new InvalidGrantError('invalid access token');
    }
    return {
      token,
      clientId: record.clientId,
      scopes: record.scopes,
      expiresAt: Math.floor(record.expiresAt / 1000),
      resource: new URL(this.urls.resource),
      extra: { grantId: record.grantId },
    };
  }

  /** @see RFC 7009 §2.1: a refresh token takes its whole grant with it. */
  async revokeToken(
    client: OAuthClientInformationFull,
    request: OAuthTokenRevocationRequest,
  ): Promise<void> {
    const record = this.deps.repo.getToken(sha256Hex(request.token));
    if (record === undefined || record.clientId !== client.client_id) return;
    const now = this.deps.clock();
    if (record.kind === 'refresh') this.dropGrant(record.grantId, now);
    else this.deps.repo.revokeToken(record.tokenHash, now);
  }

  /** Revokes a grant here, then its upstream tokens at the upstream (in the background). */
  private dropGrant(grantId: string, now: number): void {
    const upstream = this.deps.repo.revokeGrant(grantId, now);
    void revokeUpstreamInBackground(this.deps.upstream, this.getWorkspace(), upstream, {
      grantId,
      logger: this.deps.logger,
    });
  }

  private grantIsLive(grantId: string): boolean {
    return this.deps.repo.grantIsLive(grantId);
  }

  private liveCode(client: OAuthClientInformationFull, authorizationCode: string) {
    const code = this.deps.repo.getCode(sha256Hex(authorizationCode));
    if (
      code === undefined ||
      code.clientId !== client.client_id ||
      code.expiresAt <= this.deps.clock()
    ) {
      throw new InvalidGrantError('invalid authorization code');
    }
    return code;
  }
}

/** The client's redirect URI with the response parameters (and its own state) added. */
function clientRedirect(flow: FlowRecord, params: Record<string, string>): string {
  const url = new URL(flow.redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (flow.clientState !== undefined) url.searchParams.set('state', flow.clientState);
  return url.href;
}

/**
 * Whether resource indicator `a` names resource `b`: equal up to a trailing slash; a fragment
 * never matches. @see RFC 8707 §2 (absolute URI, MUST NOT include a fragment)
 */
export function sameResource(a: string, b: string): boolean {
  const norm = (s: string) => new URL(s).href.replace(/\/$/, '');
  try {
    if (a.includes('#')) return false;
    return norm(a) === norm(b);
  } catch {
    return false;
  }
}
