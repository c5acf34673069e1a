/**
 * The proxy as an OAuth client of a workspace's upstream authorization server, on oauth4webapi:
 * the authorization URL (PKCE S256, state), the code exchange, client_credentials, refresh,
 * revocation (RFC 7009), and for the dcr/auto providers discovery (RFC 9728, RFC 8414) and
 * registration (RFC 7591).
 */
import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { Logger } from 'pino';
import { loadSpec } from '../openapi';
import type { OAuth2UpstreamAuth, Workspace } from '../types';
import type { OAuthRepository, UpstreamTokenSet } from './repository';

export type UpstreamOAuthErrorCode =
  /** The upstream refused the grant for good (invalid_grant): the user must authorize again. */
  | 'ERR_UPSTREAM_INVALID_GRANT'
  /** 5xx, timeout, network failure, temporarily_unavailable: worth retrying. */
  | 'ERR_UPSTREAM_UNAVAILABLE'
  /** Any other OAuth error or malformed response from the upstream. */
  | 'ERR_UPSTREAM_REJECTED'
  /** The workspace's OAuth settings are incomplete or inconsistent. */
  | 'ERR_UPSTREAM_CONFIG';

/** A failure talking to the upstream authorization server. */
export class UpstreamOAuthError extends Error {
  override readonly name = 'UpstreamOAuthError';
  readonly code: UpstreamOAuthErrorCode;
  /** The upstream's RFC 6749 error code, when it sent one. */
  readonly oauthError?: string;

  constructor(code: UpstreamOAuthErrorCode, message: string, oauthError?: string) {
    super(message);
    this.code = code;
    this.oauthError = oauthError;
  }
}

export interface UpstreamOAuthOptions {
  repo: OAuthRepository;
  /** `<publicUrl>/oauth/callback`: the redirect URI registered with the upstream. */
  callbackUrl: string;
  fetch: typeof fetch;
  clock: () => number;
  /** Per-request deadline toward the upstream authorization server. */
  timeoutMs?: number;
  /** Plain-http upstreams are refused except on loopback hosts, or when this says yes. */
  allowInsecure?: (url: URL) => boolean;
}

/** A resolved upstream: where its endpoints are and how the proxy authenticates to it. */
export interface ResolvedUpstream {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  auth: OAuth2UpstreamAuth;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Talks to each workspace's upstream authorization server. */
export class UpstreamOAuth {
  private readonly options: UpstreamOAuthOptions;
  private readonly resolved = new Map<string, { key: string; value: Promise<ResolvedUpstream> }>();
  /** Revocation endpoints of custom providers, from their metadata (undefined: none advertised). */
  private readonly revocationEndpoints = new Map<
    string,
    { key: string; endpoint: string | undefined }
  >();

  constructor(options: UpstreamOAuthOptions) {
    this.options = options;
  }

  /** The authorization URL to send the browser to. @see RFC 6749 §4.1.1, RFC 7636 §4.3 */
  async authorizationUrl(
    workspace: Workspace,
    params: { state?: string; codeVerifier?: string },
  ): Promise<URL> {
    const upstream = await this.resolve(workspace);
    const endpoint = upstream.as.authorization_endpoint;
    if (endpoint === undefined) {
      throw new UpstreamOAuthError('ERR_UPSTREAM_CONFIG', 'the upstream has no authorization URL');
    }
    const url = new URL(endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', upstream.client.client_id);
    url.searchParams.set('redirect_uri', this.options.callbackUrl);
    if (upstream.auth.scopes.length > 0)
      url.searchParams.set('scope', upstream.auth.scopes.join(' '));
    if (params.state !== undefined) url.searchParams.set('state', params.state);
    if (params.codeVerifier !== undefined) {
      url.searchParams.set(
        'code_challenge',
        await oauth.calculatePKCECodeChallenge(params.codeVerifier),
      );
      url.searchParams.set('code_challenge_method', 'S256');
    }
    if (upstream.auth.resource !== undefined)
      url.searchParams.set('resource', upstream.auth.resource);
    for (const [name, value] of Object.entries(upstream.auth.extraAuthorizeParams ?? {})) {
      url.searchParams.set(name, value);
    }
    return url;
  }

  /**
   * Validates the callback's parameters (state, iss, error) and exchanges the code.
   * @see RFC 6749 §4.1.2-4.1.4, RFC 9207
   */
  async exchangeCode(
    workspace: Workspace,
    callbackParams: URLSearchParams,
    expected: { state?: string; codeVerifier?: string },
  ): Promise<UpstreamTokenSet> {
    const upstream = await this.resolve(workspace);
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(
        upstream.as,
        upstream.client,
        callbackParams,
        expected.state ?? oauth.expectNoState,
      );
    } catch (error) {
      throw classify(error);
    }
    return this.tokenCall(upstream, () =>
      oauth.authorizationCodeGrantRequest(
        upstream.as,
        upstream.client,
        upstream.clientAuth,
        params,
        this.options.callbackUrl,
        expected.codeVerifier ?? oauth.nopkce,
        this.requestOptions(upstream),
      ),
    );
  }

  /** Refreshes a grant's upstream tokens. @see RFC 6749 §6 */
  async refresh(workspace: Workspace, refreshToken: string): Promise<UpstreamTokenSet> {
    const upstream = await this.resolve(workspace);
    const tokens = await this.tokenCall(upstream, () =>
      oauth.refreshTokenGrantRequest(
        upstream.as,
        upstream.client,
        upstream.clientAuth,
        refreshToken,
        this.requestOptions(upstream),
      ),
    );
    // An upstream that doesn't rotate keeps the refresh token it had.
    return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
  }

  /** A service token for the workspace itself. @see RFC 6749 §4.4 */
  async clientCredentials(workspace: Workspace): Promise<UpstreamTokenSet> {
    const upstream = await this.resolve(workspace);
    const params: Record<string, string> = {};
    if (upstream.auth.scopes.length > 0) params.scope = upstream.auth.scopes.join(' ');
    if (upstream.auth.resource !== undefined) params.resource = upstream.auth.resource;
    return this.tokenCall(upstream, () =>
      oauth.clientCredentialsGrantRequest(
        upstream.as,
        upstream.client,
        upstream.clientAuth,
        params,
        this.requestOptions(upstream),
      ),
    );
  }

  /**
   * Revokes an upstream token (RFC 7009) when the upstream advertises a revocation endpoint;
   * resolves false when it advertises none. Custom providers are asked for their RFC 8414
   * metadata at the issuer (once per configuration) only for this.
   * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
   */
  async revoke(
    workspace: Workspace,
    token: string,
    hint: 'refresh_token' | 'access_token',
  ): Promise<boolean> {
    const upstream = await this.resolve(workspace);
    const endpoint = await this.revocationEndpoint(workspace, upstream);
    if (endpoint === undefined) return false;
    try {
      const response = await oauth.revocationRequest(
        { ...upstream.as, revocation_endpoint: endpoint },
        upstream.client,
        upstream.clientAuth,
        token,
        { additionalParameters: { token_type_hint: hint }, ...this.httpOptions(new URL(endpoint)) },
      );
      await oauth.processRevocationResponse(response);
    } catch (error) {
      throw classify(error);
    }
    return true;
  }

  private async revocationEndpoint(
    workspace: Workspace,
    upstream: ResolvedUpstream,
  ): Promise<string | undefined> {
    if (upstream.as.revocation_endpoint !== undefined) return upstream.as.revocation_endpoint;
    if (upstream.auth.provider !== 'custom') return undefined;
    const key = configHash(upstream.auth, workspace.baseUrl);
    const cached = this.revocationEndpoints.get(workspace.id);
    if (cached?.key === key) return cached.endpoint;
    const issuer = new URL(upstream.as.issuer);
    let lastError: unknown;
    for (const algorithm of ['oauth2', 'oidc'] as const) {
      try {
        const response = await oauth.discoveryRequest(issuer, {
          algorithm,
          ...this.httpOptions(issuer),
        });
        const as = await oauth.processDiscoveryResponse(issuer, response);
        this.revocationEndpoints.set(workspace.id, { key, endpoint: as.revocation_endpoint });
        return as.revocation_endpoint;
      } catch (error) {
        lastError = error;
      }
    }
    // Not cached: the next revocation asks again (the upstream may have been down).
    throw classify(lastError);
  }

  /** Endpoints and client of a workspace, discovered and registered once per configuration. */
  resolve(workspace: Workspace): Promise<ResolvedUpstream> {
    const auth = workspace.auth;
    if (auth.type !== 'oauth2') {
      return Promise.reject(
        new UpstreamOAuthError('ERR_UPSTREAM_CONFIG', `workspace ${workspace.id} is not oauth2`),
      );
    }
    const key = configHash(auth, workspace.baseUrl);
    const cached = this.resolved.get(workspace.id);
    if (cached?.key === key) return cached.value;
    const value = this.resolveFresh(workspace, auth, key);
    this.resolved.set(workspace.id, { key, value });
    value.catch(() => {
      if (this.resolved.get(workspace.id)?.value === value) this.resolved.delete(workspace.id);
    });
    return value;
  }

  private async resolveFresh(
    workspace: Workspace,
    auth: OAuth2UpstreamAuth,
    key: string,
  ): Promise<ResolvedUpstream> {
    if (auth.provider === 'custom') {
      if (auth.tokenUrl === undefined || auth.clientId === undefined) {
        throw new UpstreamOAuthError(
          'ERR_UPSTREAM_CONFIG',
          'custom OAuth needs a token URL and a client_id',
        );
      }
      if (auth.grant === 'authorization_code' && auth.authorizationUrl === undefined) {
        throw new UpstreamOAuthError(
          'ERR_UPSTREAM_CONFIG',
          'authorization_code needs an authorization URL',
        );
      }
      const as: oauth.AuthorizationServer = {
        issuer: auth.issuer ?? new URL(auth.authorizationUrl ?? auth.tokenUrl).origin,
        authorization_endpoint: auth.authorizationUrl,
        token_endpoint: auth.tokenUrl,
      };
      return this.withClient(as, auth, {
        client_id: auth.clientId,
        client_secret: auth.clientSecret,
      });
    }
    const as = await this.discover(workspace, auth);
    let registration = this.options.repo.getRegistration(workspace.id, key);
    if (registration === undefined) {
      registration = await this.register(as, auth);
      this.options.repo.saveRegistration(workspace.id, key, registration, this.options.clock());
    }
    const clientId = registration.client_id;
    if (typeof clientId !== 'string') {
      throw new UpstreamOAuthError('ERR_UPSTREAM_REJECTED', 'the registration has no client_id');
    }
    const secret = registration.client_secret;
    const method = registration.token_endpoint_auth_method;
    return this.withClient(
      as,
      {
        ...auth,
        tokenEndpointAuthMethod:
          method === 'client_secret_post' || method === 'none' || method === 'client_secret_basic'
            ? method
            : auth.tokenEndpointAuthMethod,
      },
      { client_id: clientId, client_secret: typeof secret === 'string' ? secret : undefined },
    );
  }

  private withClient(
    as: oauth.AuthorizationServer,
    auth: OAuth2UpstreamAuth,
    credentials: { client_id: string; client_secret?: string },
  ): ResolvedUpstream {
    const secret = credentials.client_secret;
    const method = auth.tokenEndpointAuthMethod ?? (secret ? 'client_secret_basic' : 'none');
    let clientAuth: oauth.ClientAuth;
    if (method === 'none') clientAuth = oauth.None();
    else if (secret === undefined || secret === '') {
      throw new UpstreamOAuthError('ERR_UPSTREAM_CONFIG', `${method} needs a client secret`);
    } else if (method === 'client_secret_post') clientAuth = oauth.ClientSecretPost(secret);
    else clientAuth = oauth.ClientSecretBasic(secret);
    return { as, client: { client_id: credentials.client_id }, clientAuth, auth };
  }

  /** RFC 8414 metadata: from the configured issuer, else the API's RFC 9728 metadata, else the API origin. */
  private async discover(
    workspace: Workspace,
    auth: OAuth2UpstreamAuth,
  ): Promise<oauth.AuthorizationServer> {
    const candidates: string[] = [];
    if (auth.issuer !== undefined) candidates.push(auth.issuer);
    if (auth.provider === 'auto') {
      const hints = await specHints(workspace);
      const api = workspace.baseUrl ?? hints.serverUrl;
      candidates.push(...hints.issuers);
      if (api !== undefined) candidates.push(...(await this.protectedResourceIssuers(api)));
      candidates.push(...hints.flowOrigins);
      if (api !== undefined) candidates.push(new URL(api).origin);
    }
    for (const origin of [auth.registrationUrl, auth.tokenUrl, auth.authorizationUrl]) {
      if (origin !== undefined) candidates.push(new URL(origin).origin);
    }
    let lastError: unknown;
    for (const issuer of [...new Set(candidates)]) {
      for (const algorithm of ['oauth2', 'oidc'] as const) {
        try {
          const url = new URL(issuer);
          const response = await oauth.discoveryRequest(url, {
            algorithm,
            ...this.httpOptions(url),
          });
          const as = await oauth.processDiscoveryResponse(url, response);
          return {
            ...as,
            authorization_endpoint: auth.authorizationUrl ?? as.authorization_endpoint,
            token_endpoint: auth.tokenUrl ?? as.token_endpoint,
            registration_endpoint: auth.registrationUrl ?? as.registration_endpoint,
          };
        } catch (error) {
          lastError = error;
        }
      }
    }
    if (auth.tokenUrl !== undefined && auth.registrationUrl !== undefined) {
      return {
        issuer: auth.issuer ?? new URL(auth.tokenUrl).origin,
        authorization_endpoint: auth.authorizationUrl,
        token_endpoint: auth.tokenUrl,
        registration_endpoint: auth.registrationUrl,
      };
    }
    throw new UpstreamOAuthError(
      'ERR_UPSTREAM_CONFIG',
      `no authorization server metadata found for workspace ${workspace.id}: ${String(lastError)}`,
    );
  }

  /** Authorization servers named by the API's RFC 9728 metadata (path-aware, then the root). */
  private async protectedResourceIssuers(apiUrl: string): Promise<string[]> {
    const api = new URL(apiUrl);
    const urls = [
      new URL(`/.well-known/oauth-protected-resource${api.pathname.replace(/\/$/, '')}`, api),
      new URL('/.well-known/oauth-protected-resource', api),
    ];
    for (const url of urls) {
      try {
        const response = await this.options.fetch(url, {
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        if (!response.ok) continue;
        const body = (await response.json()) as { authorization_servers?: unknown };
        const servers = body.authorization_servers;
        if (Array.isArray(servers))
          return servers.filter((s): s is string => typeof s === 'string');
      } catch {
        // Not every API publishes RFC 9728 metadata; the next candidate is tried.
      }
    }
    return [];
  }

  /** Registers the proxy with the upstream. @see RFC 7591 §3 */
  private async register(
    as: oauth.AuthorizationServer,
    auth: OAuth2UpstreamAuth,
  ): Promise<Record<string, unknown>> {
    if (as.registration_endpoint === undefined) {
      throw new UpstreamOAuthError(
        'ERR_UPSTREAM_CONFIG',
        'the upstream has no registration endpoint',
      );
    }
    const grantTypes =
      auth.grant === 'client_credentials'
        ? ['client_credentials']
        : ['authorization_code', 'refresh_token'];
    const metadata: Partial<oauth.OmitSymbolProperties<oauth.Client>> = {
      client_name: 'MCP OAuth proxy',
      redirect_uris: auth.grant === 'client_credentials' ? [] : [this.options.callbackUrl],
      grant_types: grantTypes,
      response_types: auth.grant === 'client_credentials' ? [] : ['code'],
      token_endpoint_auth_method: auth.tokenEndpointAuthMethod ?? 'client_secret_basic',
    };
    if (auth.scopes.length > 0) metadata.scope = auth.scopes.join(' ');
    const url = new URL(as.registration_endpoint);
    try {
      const response = await oauth.dynamicClientRegistrationRequest(as, metadata, {
        initialAccessToken: auth.initialAccessToken,
        ...this.httpOptions(url),
      });
      return { ...(await oauth.processDynamicClientRegistrationResponse(response)) };
    } catch (error) {
      throw classify(error);
    }
  }

  private async tokenCall(
    upstream: ResolvedUpstream,
    request: () => Promise<Response>,
  ): Promise<UpstreamTokenSet> {
    let response: Response;
    try {
      response = await request();
    } catch (error) {
      throw classify(error);
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      throw new UpstreamOAuthError(
        'ERR_UPSTREAM_UNAVAILABLE',
        `the upstream token endpoint answered ${response.status}`,
      );
    }
    try {
      const body = await oauth.processGenericTokenEndpointResponse(
        upstream.as,
        upstream.client,
        response,
      );
      const now = this.options.clock();
      return {
        accessToken: body.access_token,
        refreshToken: body.refresh_token,
        expiresAt: typeof body.expires_in === 'number' ? now + body.expires_in * 1000 : undefined,
        obtainedAt: now,
        scope: body.scope,
      };
    } catch (error) {
      throw classify(error);
    }
  }

  private requestOptions(upstream: ResolvedUpstream): oauth.TokenEndpointRequestOptions {
    const url = new URL(upstream.as.token_endpoint ?? upstream.as.issuer);
    return {
      ...this.httpOptions(url),
      additionalParameters:
        upstream.auth.resource === undefined ? undefined : { resource: upstream.auth.resource },
    };
  }

  private httpOptions(url: URL): oauth.HttpRequestOptions<'GET' | 'POST', unknown> {
    const insecure =
      url.protocol === 'http:' &&
      (LOOPBACK.has(url.hostname) || this.options.allowInsecure?.(url) === true);
    return {
      [oauth.customFetch]: (target, init) => this.options.fetch(target, init as RequestInit),
      [oauth.allowInsecureRequests]: insecure,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    };
  }
}

/** Maps oauth4webapi and network failures onto the module's error codes. */
export function classify(error: unknown): UpstreamOAuthError {
  if (error instanceof UpstreamOAuthError) return error;
  if (
    error instanceof oauth.ResponseBodyError ||
    error instanceof oauth.AuthorizationResponseError
  ) {
    const code = error.error;
    if (code === 'invalid_grant') {
      return new UpstreamOAuthError(
        'ERR_UPSTREAM_INVALID_GRANT',
        'the upstream refused the grant',
        code,
      );
    }
    if (code === 'temporarily_unavailable' || code === 'server_error') {
      return new UpstreamOAuthError(
        'ERR_UPSTREAM_UNAVAILABLE',
        `the upstream answered ${code}`,
        code,
      );
    }
    return new UpstreamOAuthError('ERR_UPSTREAM_REJECTED', `the upstream answered ${code}`, code);
  }
  if (
    error instanceof oauth.OperationProcessingError ||
    error instanceof oauth.UnsupportedOperationError
  ) {
    return new UpstreamOAuthError('ERR_UPSTREAM_REJECTED', error.message);
  }
  // fetch's TypeError (network), AbortSignal timeouts.
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamOAuthError('ERR_UPSTREAM_UNAVAILABLE', `upstream unreachable: ${message}`);
}

/** A stable hash of the settings a registration depends on: change them and the proxy registers again. */
function configHash(auth: OAuth2UpstreamAuth, baseUrl: string | undefined): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        auth.provider,
        auth.grant,
        auth.issuer,
        auth.registrationUrl,
        auth.authorizationUrl,
        auth.tokenUrl,
        auth.clientId,
        auth.tokenEndpointAuthMethod,
        auth.scopes,
        baseUrl,
      ]),
    )
    .digest('hex');
}

/** What a workspace's spec says about its authorization server (for the zero-config provider). */
interface SpecHints {
  /** `servers[0].url`, resolved against the spec's URL. */
  serverUrl?: string;
  /** Issuers from openIdConnect schemes. */
  issuers: string[];
  /** Origins of the oauth2 schemes' authorization and token URLs. */
  flowOrigins: string[];
}

/** Reads `servers` and `components.securitySchemes` of the workspace's spec; empty when unreadable. */
async function specHints(workspace: Workspace): Promise<SpecHints> {
  const hints: SpecHints = { issuers: [], flowOrigins: [] };
  let document: Record<string, unknown>;
  let base: string | undefined;
  try {
    const loaded = await loadSpec(workspace.spec, { timeoutMs: 10_000, maxBytes: 5 * 1024 * 1024 });
    document = loaded.document;
    base = loaded.url;
  } catch {
    return hints;
  }
  const object = (value: unknown): Record<string, unknown> =>
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const urlOf = (value: unknown): URL | undefined => {
    if (typeof value !== 'string') return undefined;
    try {
      return new URL(value, base);
    } catch {
      return undefined;
    }
  };
  const servers = document.servers;
  if (Array.isArray(servers)) hints.serverUrl = urlOf(object(servers[0]).url)?.href;
  for (const scheme of Object.values(object(object(document.components).securitySchemes))) {
    const s = object(scheme);
    if (s.type === 'openIdConnect') {
      const discovery = urlOf(s.openIdConnectUrl);
      if (discovery !== undefined) {
        hints.issuers.push(discovery.href.replace(/\/\.well-known\/openid-configuration$/, ''));
      }
    }
    if (s.type === 'oauth2') {
      for (const flow of Object.values(object(s.flows))) {
        for (const key of ['authorizationUrl', 'tokenUrl']) {
          const url = urlOf(object(flow)[key]);
          if (url !== undefined) hints.flowOrigins.push(url.origin);
        }
      }
    }
  }
  return hints;
}

/**
 * Revokes the upstream tokens of a grant the proxy just dropped, in the background: best-effort
 * (failures are logged by code, never with the token), bounded by the upstream request timeout,
 * and never awaited by the response that dropped the grant. The refresh token is revoked when
 * there is one (RFC 7009 §2.1: the upstream may then drop the access tokens with it), else the
 * access token.
 */
export function revokeUpstreamInBackground(
  upstream: UpstreamOAuth,
  workspace: Workspace | undefined,
  tokens: UpstreamTokenSet | undefined,
  log: { grantId: string; logger?: Logger },
): Promise<void> {
  if (workspace === undefined || tokens === undefined) return Promise.resolve();
  const [token, hint] =
    tokens.refreshToken === undefined
      ? [tokens.accessToken, 'access_token' as const]
      : [tokens.refreshToken, 'refresh_token' as const];
  const context = { grantId: log.grantId, workspace: workspace.id, tokenType: hint };
  return upstream.revoke(workspace, token, hint).then(
    (revoked) => {
      if (revoked) log.logger?.info(context, 'upstream token revoked');
    },
    (error: unknown) => {
      const failure = classify(error);
      log.logger?.warn({ ...context, code: failure.code }, 'upstream token revocation failed');
    },
  );
}
