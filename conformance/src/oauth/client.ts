/**
 * A deliberately raw OAuth client: it builds authorization and token requests from explicit
 * parameters (so checks can send wrong, missing or malformed values) and reports what came back
 * without judging it. Judging is the checks' job.
 */
import { UserAgent } from '../http/user-agent';
import type { AsTarget } from '../types';
import type { AsMetadata } from './discovery';
import { discoverAs } from './discovery';
import { isObject, type JsonObject, stringArrayProp } from './json';
import { randomState, randomVerifier, s256 } from './pkce';

export type AuthorizationOutcome =
  | { kind: 'code'; code: string; params: URLSearchParams; url: URL }
  | { kind: 'error'; error: string; params: URLSearchParams; url: URL }
  | { kind: 'page'; status: number; body: string; url: URL };

export interface TokenResult {
  status: number;
  headers: Headers;
  body: JsonObject;
}

/** Authorization request parameters; `null` omits a parameter the client would normally send. */
export type AuthorizationParams = Record<string, string | null>;

/** True when `url` is the redirect URI (origin and path; the query carries the response). */
export function isRedirectTo(url: URL, redirectUri: string): boolean {
  const target = new URL(redirectUri);
  return url.origin === target.origin && url.pathname === target.pathname;
}

/** POSTs a form to a token-like endpoint and returns status, headers and the JSON body (or {}). */
export async function postForm(
  endpoint: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<TokenResult> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...headers,
    },
    body: new URLSearchParams(params).toString(),
    ...(signal ? { signal } : {}),
  });
  const text = await response.text();
  let body: JsonObject = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) body = parsed;
  } catch {
    body = { _raw: text.slice(0, 500) };
  }
  return { status: response.status, headers: response.headers, body };
}

/** The client authentication part of a token request. @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1 */
export function clientAuthentication(
  method: AsTarget['clientAuth'],
  clientId: string,
  clientSecret: string | undefined,
): { params: Record<string, string>; headers: Record<string, string> } {
  if (method === 'client_secret_basic') {
    const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    const basic = Buffer.from(`${encode(clientId)}:${encode(clientSecret ?? '')}`).toString(
      'base64',
    );
    return { params: {}, headers: { authorization: `Basic ${basic}` } };
  }
  if (method === 'client_secret_post')
    return { params: { client_id: clientId, client_secret: clientSecret ?? '' }, headers: {} };
  return { params: { client_id: clientId }, headers: {} };
}

/** An OAuth client bound to one AS target and its discovered metadata. */
export class AsClient {
  private constructor(
    readonly target: AsTarget,
    readonly metadata: AsMetadata,
    readonly metadataUrl: string,
  ) {}

  /** Discovers the target's metadata and returns a client for it. */
  static async connect(target: AsTarget, signal?: AbortSignal): Promise<AsClient> {
    const { url, metadata } = await discoverAs(target.issuer, signal);
    return new AsClient(target, metadata, url);
  }

  /** The scope to request: the configured one, or what the metadata suggests. */
  scope(): string | undefined {
    if (this.target.scope !== undefined) return this.target.scope || undefined;
    const supported = stringArrayProp(this.metadata, 'scopes_supported') ?? [];
    const wanted = ['openid', 'offline_access', 'items:read'].filter((s) => supported.includes(s));
    return wanted.length > 0 ? wanted.join(' ') : undefined;
  }

  /** The authorization URL for `params` layered over sensible defaults (null removes one). */
  authorizationUrl(params: AuthorizationParams = {}): URL {
    const url = new URL(this.metadata.authorization_endpoint);
    const scope = this.scope();
    const defaults: Record<string, string> = {
      response_type: 'code',
      client_id: this.target.clientId,
      redirect_uri: this.target.redirectUri,
      state: randomState(),
      ...(scope ? { scope } : {}),
      ...(scope?.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
      ...(this.target.resource ? { resource: this.target.resource } : {}),
    };
    for (const [key, value] of Object.entries({ ...defaults, ...params })) {
      if (value !== null) url.searchParams.set(key, value);
    }
    return url;
  }

  /** Runs the authorization request in a fresh (or given) browser up to the redirect URI. */
  async authorize(
    params: AuthorizationParams = {},
    agent?: UserAgent,
    signal?: AbortSignal,
  ): Promise<AuthorizationOutcome> {
    const ua =
      agent ??
      new UserAgent({
        ...(this.target.username !== undefined ? { username: this.target.username } : {}),
        ...(this.target.password !== undefined ? { password: this.target.password } : {}),
      });
    const navigation = await ua.navigate(
      this.authorizationUrl(params),
      (u) => isRedirectTo(u, this.target.redirectUri),
      signal,
    );
    if (navigation.kind === 'page') {
      return {
        kind: 'page',
        status: navigation.status,
        body: navigation.body.slice(0, 2000),
        url: navigation.url,
      };
    }
    const response = new URLSearchParams(navigation.url.search);
    const code = response.get('code');
    const error = response.get('error');
    if (error !== null) return { kind: 'error', error, params: response, url: navigation.url };
    if (code !== null) return { kind: 'code', code, params: response, url: navigation.url };
    return {
      kind: 'error',
      error: '(neither code nor error)',
      params: response,
      url: navigation.url,
    };
  }

  /** Authorizes with a fresh S256 verifier and returns the code with its verifier. */
  async authorizeWithPkce(
    signal?: AbortSignal,
  ): Promise<{ code: string; verifier: string; outcome: AuthorizationOutcome }> {
    const verifier = randomVerifier();
    const outcome = await this.authorize(
      { code_challenge: s256(verifier), code_challenge_method: 'S256' },
      undefined,
      signal,
    );
    if (outcome.kind !== 'code')
      throw new Error(`authorization did not return a code: ${describeOutcome(outcome)}`);
    return { code: outcome.code, verifier, outcome };
  }

  /** A token request with this client's authentication (overridable) and `params`. */
  async token(
    params: Record<string, string>,
    auth: { method?: AsTarget['clientAuth']; secret?: string } = {},
    signal?: AbortSignal,
  ): Promise<TokenResult> {
    const authn = clientAuthentication(
      auth.method ?? this.target.clientAuth,
      this.target.clientId,
      auth.secret ?? this.target.clientSecret,
    );
    return postForm(
      this.metadata.token_endpoint,
      { ...params, ...authn.params },
      authn.headers,
      signal,
    );
  }

  /** Exchanges `code`; `verifier` undefined omits code_verifier. */
  async exchangeCode(
    code: string,
    verifier: string | undefined,
    signal?: AbortSignal,
  ): Promise<TokenResult> {
    return this.token(
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: this.target.redirectUri,
        ...(verifier !== undefined ? { code_verifier: verifier } : {}),
        ...(this.target.resource ? { resource: this.target.resource } : {}),
      },
      {},
      signal,
    );
  }

  /** Redeems a refresh token. */
  async refresh(refreshToken: string, signal?: AbortSignal): Promise<TokenResult> {
    return this.token(
      {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        ...(this.target.resource ? { resource: this.target.resource } : {}),
      },
      {},
      signal,
    );
  }
}

/** One line describing an authorization outcome, for failure messages. */
export function describeOutcome(outcome: AuthorizationOutcome): string {
  if (outcome.kind === 'code') return `code issued (${outcome.url.search})`;
  if (outcome.kind === 'error')
    return `error=${outcome.error} ${outcome.params.get('error_description') ?? ''}`.trim();
  return `stopped at a ${outcome.status} page ${outcome.url.href}: ${outcome.body.replace(/\s+/g, ' ').slice(0, 200)}`;
}

/** One line describing a token response, for failure messages. */
export function describeToken(result: TokenResult): string {
  const { access_token: _a, refresh_token: _r, id_token: _i, ...rest } = result.body;
  return `${result.status} ${JSON.stringify(rest).slice(0, 300)}`;
}
