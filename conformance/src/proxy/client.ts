/**
 * Plays the MCP client against a proxy, black-box from its MCP URL: the 401 challenge, RFC 9728
 * protected-resource metadata, RFC 8414 metadata, RFC 7591 registration, then authorization in
 * legs (proxy consent → upstream authorize → proxy callback → client redirect) so checks can
 * tamper with any leg, and the token exchange.
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization#authorization-flow-steps
 */
import { CheckFailure } from '../errors';
import { UserAgent } from '../http/user-agent';
import { McpSession } from '../mcp/client';
import {
  AsClient,
  type AuthorizationOutcome,
  describeOutcome,
  isRedirectTo,
} from '../oauth/client';
import { type AsMetadata, discoverAs } from '../oauth/discovery';
import {
  isObject,
  type JsonObject,
  readJsonObject,
  stringArrayProp,
  stringProp,
} from '../oauth/json';
import { randomState, randomVerifier, s256 } from '../oauth/pkce';
import type { CheckContext, UpstreamTarget } from '../types';

/** The redirect URI the harness registers at proxies (RFC 8252 loopback; nothing listens). */
export const CLIENT_REDIRECT_URI = 'http://127.0.0.1:9/conformance/callback';

export interface Challenge {
  status: number;
  header: string | null;
  params: Record<string, string>;
}

/** Parses the auth-params of a `Bearer` WWW-Authenticate challenge. @see https://www.rfc-editor.org/rfc/rfc6750#section-3 */
export function parseBearerChallenge(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header || !/^\s*bearer\b/i.test(header)) return params;
  const rest = header.replace(/^\s*bearer\s*/i, '');
  for (const match of rest.matchAll(/([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    const key = match[1] ?? '';
    params[key.toLowerCase()] = (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return params;
}

/** Sends an MCP initialize with `token` (or none) and returns the challenge, if any. */
export async function probe(
  mcpUrl: string,
  token?: string,
  signal?: AbortSignal,
): Promise<Challenge> {
  const result = await new McpSession(mcpUrl, token).send(
    'initialize',
    {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'mcp-oauth-conformance', version: '1.0.0' },
    },
    false,
    signal,
  );
  const header = result.headers.get('www-authenticate');
  return { status: result.status, header, params: parseBearerChallenge(header) };
}

export interface ProxyDiscovery {
  mcpUrl: string;
  challenge: Challenge;
  prmUrl: string;
  prm: JsonObject;
  resource: string;
  issuer: string;
  metadata: AsMetadata;
}

/** Discovers the proxy's authorization server from its MCP URL, failing on each missing step. */
export async function discoverProxy(mcpUrl: string, signal?: AbortSignal): Promise<ProxyDiscovery> {
  const challenge = await probe(mcpUrl, undefined, signal);
  if (challenge.status !== 401)
    throw new CheckFailure(`unauthenticated initialize answered ${challenge.status}, expected 401`);
  const prmUrl = challenge.params.resource_metadata;
  if (!prmUrl || !URL.canParse(prmUrl)) {
    throw new CheckFailure(
      `401 without a resource_metadata URL in WWW-Authenticate: ${JSON.stringify(challenge.header)}`,
    );
  }
  const response = await fetch(prmUrl, {
    headers: { accept: 'application/json' },
    ...(signal ? { signal } : {}),
  });
  if (!response.ok)
    throw new CheckFailure(`protected resource metadata ${prmUrl} answered ${response.status}`);
  const prm = await readJsonObject(response, prmUrl);
  const resource = stringProp(prm, 'resource');
  const issuer = stringArrayProp(prm, 'authorization_servers')?.[0];
  if (!resource || !issuer)
    throw new CheckFailure(`${prmUrl}: needs "resource" and "authorization_servers"`);
  const { metadata } = await discoverAs(issuer, signal);
  return { mcpUrl, challenge, prmUrl, prm, resource, issuer, metadata };
}

/** Registers a client at the proxy (RFC 7591) and returns the raw answer. */
export async function register(
  metadata: AsMetadata,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<{ status: number; body: JsonObject }> {
  const endpoint = stringProp(metadata, 'registration_endpoint');
  if (!endpoint)
    throw new CheckFailure('the authorization server metadata has no registration_endpoint');
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const text = await response.text();
  let parsed: unknown = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { _raw: text.slice(0, 300) };
  }
  return { status: response.status, body: isObject(parsed) ? parsed : {} };
}

/** A public client's registration as an MCP client sends it. */
export function clientMetadata(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_name: 'mcp-oauth-conformance',
    redirect_uris: [CLIENT_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...overrides,
  };
}

export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  expiresIn?: number;
}

export type Legs =
  /** The proxy sent the browser upstream: the upstream authorize URL and where it comes back. */
  | { kind: 'upstream'; upstreamAuthorize: URL; callback: URL }
  /** The authorization ended without an upstream leg (error, or a grant reused). */
  | { kind: 'direct'; outcome: AuthorizationOutcome };

/** An MCP client registered at one proxy workspace. */
export class ProxyClient {
  private constructor(
    readonly discovery: ProxyDiscovery,
    readonly oauth: AsClient,
    readonly upstream: UpstreamTarget | undefined,
    private readonly upstreamAuthorize: string | undefined,
  ) {}

  /** Discovers and registers; `upstream` lets the client tell the upstream leg apart. */
  static async create(
    mcpUrl: string,
    upstream: UpstreamTarget | undefined,
    signal?: AbortSignal,
  ): Promise<ProxyClient> {
    const discovery = await discoverProxy(mcpUrl, signal);
    const registration = await register(discovery.metadata, clientMetadata(), signal);
    const clientId = stringProp(registration.body, 'client_id');
    if (registration.status !== 201 || !clientId) {
      throw new CheckFailure(
        `client registration answered ${registration.status} ${JSON.stringify(registration.body).slice(0, 200)}`,
      );
    }
    const scopes = stringArrayProp(discovery.prm, 'scopes_supported');
    const oauth = await AsClient.connect(
      {
        issuer: discovery.issuer,
        clientId,
        clientAuth: 'none',
        redirectUri: CLIENT_REDIRECT_URI,
        scope: scopes?.join(' ') ?? '',
        resource: discovery.resource,
      },
      signal,
    );
    const upstreamAuthorize = upstream
      ? (await discoverAs(upstream.url, signal)).metadata.authorization_endpoint
      : undefined;
    return new ProxyClient(discovery, oauth, upstream, upstreamAuthorize);
  }

  /** A browser that can log in at the upstream. */
  browser(): UserAgent {
    return new UserAgent({
      username: this.upstream?.username ?? 'alice',
      password: this.upstream?.password ?? 'alice-pass',
    });
  }

  private isUpstreamAuthorize(url: URL): boolean {
    if (!this.upstreamAuthorize) return false;
    const target = new URL(this.upstreamAuthorize);
    return url.origin === target.origin && url.pathname === target.pathname;
  }

  /** PKCE + state parameters for one authorization request. */
  static pkce(): { verifier: string; params: Record<string, string> } {
    const verifier = randomVerifier();
    return {
      verifier,
      params: {
        code_challenge: s256(verifier),
        code_challenge_method: 'S256',
        state: randomState(),
      },
    };
  }

  /**
   * Runs the authorization up to the proxy's callback: consent at the proxy, login and consent
   * upstream. Returns the upstream authorize URL and the callback URL, neither delivered yet.
   */
  async legs(
    ua: UserAgent,
    params: Record<string, string | null>,
    signal?: AbortSignal,
  ): Promise<Legs> {
    const redirect = this.oauth.target.redirectUri;
    const first = await ua.navigate(
      this.oauth.authorizationUrl(params),
      (u) => this.isUpstreamAuthorize(u) || isRedirectTo(u, redirect),
      signal,
    );
    if (first.kind === 'page')
      return {
        kind: 'direct',
        outcome: {
          kind: 'page',
          status: first.status,
          body: first.body.slice(0, 2000),
          url: first.url,
        },
      };
    if (!this.isUpstreamAuthorize(first.url))
      return { kind: 'direct', outcome: outcomeOf(first.url) };
    const upstreamAuthorize = first.url;
    const callbackUri = upstreamAuthorize.searchParams.get('redirect_uri');
    if (!callbackUri || !URL.canParse(callbackUri))
      throw new CheckFailure(
        `upstream authorize request without redirect_uri: ${upstreamAuthorize.href}`,
      );
    const second = await ua.navigate(
      upstreamAuthorize,
      (u) => isRedirectTo(u, callbackUri),
      signal,
    );
    if (second.kind === 'page')
      throw new Error(
        `upstream authorization stopped at a ${second.status} page ${second.url.href}`,
      );
    return { kind: 'upstream', upstreamAuthorize, callback: second.url };
  }

  /** Delivers a (possibly tampered) callback URL in `ua` and reports what the client got. */
  async deliver(ua: UserAgent, callback: URL, signal?: AbortSignal): Promise<AuthorizationOutcome> {
    const redirect = this.oauth.target.redirectUri;
    const navigation = await ua.navigate(callback, (u) => isRedirectTo(u, redirect), signal);
    if (navigation.kind === 'page')
      return {
        kind: 'page',
        status: navigation.status,
        body: navigation.body.slice(0, 2000),
        url: navigation.url,
      };
    return outcomeOf(navigation.url);
  }

  /** The whole authorization in one browser; returns the client's outcome and verifier. */
  async authorize(
    params: Record<string, string | null> = {},
    signal?: AbortSignal,
  ): Promise<{ outcome: AuthorizationOutcome; verifier: string; state: string; legs: Legs }> {
    const pkce = ProxyClient.pkce();
    const all = { ...pkce.params, ...params };
    const ua = this.browser();
    const legs = await this.legs(ua, all, signal);
    const outcome =
      legs.kind === 'direct' ? legs.outcome : await this.deliver(ua, legs.callback, signal);
    return {
      outcome,
      verifier: pkce.verifier,
      state: typeof all.state === 'string' ? all.state : '',
      legs,
    };
  }

  /** Authorizes and exchanges the code: the tokens an MCP client would hold. */
  async obtainTokens(signal?: AbortSignal): Promise<Tokens> {
    const { outcome, verifier } = await this.authorize({}, signal);
    if (outcome.kind !== 'code')
      throw new CheckFailure(`authorization at the proxy failed: ${describeOutcome(outcome)}`);
    const result = await this.oauth.exchangeCode(outcome.code, verifier, signal);
    return tokensFrom(result.status, result.body, 'code exchange at the proxy');
  }

  /** Refreshes at the proxy's token endpoint. */
  async refresh(
    refreshToken: string,
    signal?: AbortSignal,
  ): Promise<{ status: number; body: JsonObject }> {
    return this.oauth.refresh(refreshToken, signal);
  }

  /** An MCP session with `token`, already initialized. */
  async session(token: string, signal?: AbortSignal): Promise<McpSession> {
    const session = new McpSession(this.discovery.mcpUrl, token);
    const init = await session.initialize(signal);
    if (init.status !== 200)
      throw new CheckFailure(
        `initialize with a fresh proxy token answered ${init.status}: ${init.text.slice(0, 200)}`,
      );
    return session;
  }
}

function outcomeOf(url: URL): AuthorizationOutcome {
  const params = new URLSearchParams(url.search);
  const error = params.get('error');
  const code = params.get('code');
  if (error !== null) return { kind: 'error', error, params, url };
  if (code !== null) return { kind: 'code', code, params, url };
  return { kind: 'error', error: '(neither code nor error)', params, url };
}

/** Reads tokens from a token response or fails naming the step. */
export function tokensFrom(status: number, body: JsonObject, what: string): Tokens {
  const accessToken = stringProp(body, 'access_token');
  if (status !== 200 || !accessToken)
    throw new CheckFailure(`${what}: ${status} ${JSON.stringify(body).slice(0, 200)}`);
  const refreshToken = stringProp(body, 'refresh_token');
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
  return {
    accessToken,
    ...(refreshToken ? { refreshToken } : {}),
    ...(expiresIn !== undefined ? { expiresIn } : {}),
  };
}

/** The proxy target's MCP URLs; the runner only calls proxy checks when it is set. */
export function proxyUrls(ctx: CheckContext): string[] {
  const urls = ctx.targets.proxy?.mcpUrls ?? [];
  if (urls.length === 0) throw new Error('no proxy target');
  return urls;
}

/** A registered client at the first (or `index`th) workspace. */
export function proxyClient(ctx: CheckContext, index = 0): Promise<ProxyClient> {
  const url = proxyUrls(ctx)[index];
  if (!url) throw new Error(`no proxy workspace #${index}`);
  return ProxyClient.create(url, ctx.targets.upstream, ctx.signal);
}
