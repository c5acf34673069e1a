/**
 * The proxy's OAuth module, as server.ts mounts it: the per-workspace authorization servers and
 * their metadata (`router`), the bearer check in front of `/mcp/<ws>` (`authorize`), and the
 * upstream credentials of oauth2 workspaces (`credentialsFor`).
 */
import { authorizationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/authorize.js';
import { clientRegistrationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/register.js';
import { revocationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/revoke.js';
import { tokenHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/token.js';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { FetchLimits } from '../openapi';
import type { ProxyStore } from '../store';
import type { UpstreamCredentials, Workspace } from '../types';
import {
  type AuthorizationServerTimings,
  BROWSER_COOKIE,
  DEFAULT_TIMINGS,
  readCookie,
  WorkspaceAuthorizationServer,
  workspaceUrls,
} from './authorization-server';
import { clientAuthentication } from './client-auth';
import { oauthCredentials, TokenLifecycle } from './lifecycle';
import { guardedFetch } from './network';
import { sendErrorPage } from './pages';
import { OAuthRepository } from './repository';
import { bearerToken, safeEqual, sha256Hex } from './tokens';
import { UpstreamOAuth } from './upstream';

export { workspaceUrls } from './authorization-server';
export { GrantError, oauthCredentials, TokenLifecycle } from './lifecycle';
export { OAuthRepository } from './repository';
export { UpstreamOAuth, UpstreamOAuthError } from './upstream';

export interface OAuthModuleOptions {
  store: Pick<ProxyStore, 'db' | 'secrets' | 'migrate' | 'workspaces'>;
  /** The proxy's public origin (and optional path prefix), e.g. `http://localhost:8080`. */
  publicUrl: string;
  logger?: Logger;
  /** Default: a fetch that checks addresses (see `fetchLimits`), follows no redirect, caps bodies. */
  fetch?: typeof fetch;
  /** Address policy toward upstream authorization servers; loopback allowed, private ranges not. */
  fetchLimits?: FetchLimits;
  clock?: () => number;
  timings?: Partial<AuthorizationServerTimings>;
  /** Upstream refresh retries on 5xx/timeouts, and the first backoff (ms). */
  refreshRetries?: number;
  refreshBackoffMs?: number;
}

export interface OAuthModule {
  /** Mount at the application root: metadata, /oauth/<ws>/*, /oauth/callback. */
  router: express.Router;
  /**
   * Checks the MCP client's bearer token for workspace `ws`. Resolves `{ grantId, scopes,
   * resourceMetadata }` (the proxy token's scopes and the RFC 9728 URL, for insufficient_scope
   * challenges, and the 401 challenge for a grant that ends mid-request) when valid, after
   * refreshing an expired upstream token (an upstream invalid_grant drops the grant: 401);
   * otherwise answers 401 with `WWW-Authenticate` and resolves undefined.
   */
  authorize(
    req: Request,
    res: Response,
    ws: Workspace,
  ): Promise<
    | {
        grantId?: string;
        scopes: string[];
        resourceMetadata: string;
        invalidTokenChallenge: string;
      }
    | undefined
  >;
  /** Upstream credentials for an oauth2 workspace's tool calls. */
  credentialsFor(ws: Workspace): UpstreamCredentials;
  readonly repo: OAuthRepository;
  readonly lifecycle: TokenLifecycle;
  close(): void;
}

interface WorkspaceEndpoints {
  server: WorkspaceAuthorizationServer;
  authorize: RequestHandler;
  /** Our client authentication, then the SDK's handler (likewise `revoke`). */
  token: RequestHandler;
  register: RequestHandler;
  revoke: RequestHandler;
}

/** Builds the OAuth module over the proxy store. */
export function createOAuthModule(options: OAuthModuleOptions): OAuthModule {
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  const clock = options.clock ?? Date.now;
  const fetchFn = options.fetch ?? guardedFetch(options.fetchLimits);
  const repo = new OAuthRepository(options.store);
  const timings = { ...DEFAULT_TIMINGS, ...options.timings };
  const upstream = new UpstreamOAuth({
    repo,
    callbackUrl: `${publicUrl}/oauth/callback`,
    fetch: fetchFn,
    clock,
  });
  const lifecycle = new TokenLifecycle({
    repo,
    upstream,
    clock,
    logger: options.logger,
    retries: options.refreshRetries,
    backoffMs: options.refreshBackoffMs,
  });
  const credentials = oauthCredentials(lifecycle);
  const deps = { repo, upstream, publicUrl, clock, logger: options.logger, timings };
  const endpoints = new Map<string, WorkspaceEndpoints>();

  const oauthWorkspace = (id: string | undefined): Workspace | undefined => {
    if (id === undefined) return undefined;
    const workspace = options.store.workspaces.get(id);
    return workspace?.auth.type === 'oauth2' ? workspace : undefined;
  };

  const endpointsFor = (id: string | undefined): WorkspaceEndpoints | undefined => {
    if (id === undefined || oauthWorkspace(id) === undefined) return undefined;
    let entry = endpoints.get(id);
    if (entry === undefined) {
      const server = new WorkspaceAuthorizationServer(deps, id, () => oauthWorkspace(id));
      const authenticated = (handler: RequestHandler): RequestHandler =>
        express
          .Router()
          .use(
            express.urlencoded({ extended: false, limit: '16kb' }),
            clientAuthentication({ repo, workspaceId: id, realm: server.urls.issuer }),
            handler,
          );
      entry = {
        server,
        authorize: authorizationHandler({ provider: server, rateLimit: false }),
        token: authenticated(tokenHandler({ provider: server, rateLimit: false })),
        register: clientRegistrationHandler({
          clientsStore: server.clientsStore,
          rateLimit: false,
          clientSecretExpirySeconds: 0,
        }),
        revoke: authenticated(revocationHandler({ provider: server, rateLimit: false })),
      };
      endpoints.set(id, entry);
    }
    return entry;
  };

  const router = express.Router();

  const json = (res: Response, body: unknown) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.json(body);
  };

  const protectedResource = (workspace: Workspace) => {
    const urls = workspaceUrls(publicUrl, workspace.id);
    return {
      resource: urls.resource,
      authorization_servers: [urls.issuer],
      scopes_supported: workspace.auth.type === 'oauth2' ? workspace.auth.scopes : [],
      bearer_methods_supported: ['header'],
      resource_name: workspace.name,
    };
  };

  const authorizationServer = (workspace: Workspace) => {
    const urls = workspaceUrls(publicUrl, workspace.id);
    return {
      issuer: urls.issuer,
      authorization_endpoint: urls.authorize,
      token_endpoint: urls.token,
      registration_endpoint: urls.register,
      revocation_endpoint: urls.revoke,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'none',
      ],
      scopes_supported: workspace.auth.type === 'oauth2' ? workspace.auth.scopes : [],
      authorization_response_iss_parameter_supported: true,
    };
  };

  // RFC 9728 §3.1: path-aware, and a root fallback when only one workspace could be meant.
  router.get('/.well-known/oauth-protected-resource/mcp/:ws', (req, res, next) => {
    const workspace = oauthWorkspace(req.params.ws);
    if (workspace === undefined) return next();
    json(res, protectedResource(workspace));
  });
  const onlyOAuthWorkspace = (): Workspace | undefined => {
    const all = options.store.workspaces.list().filter((w) => w.auth.type === 'oauth2');
    return all.length === 1 ? all[0] : undefined;
  };
  router.get('/.well-known/oauth-protected-resource', (_req, res, next) => {
    const only = onlyOAuthWorkspace();
    if (only === undefined) return next();
    json(res, protectedResource(only));
  });
  // Clients of the 2025-03-26 MCP spec look for AS metadata at the MCP server's root.
  router.get('/.well-known/oauth-authorization-server', (_req, res, next) => {
    const only = onlyOAuthWorkspace();
    if (only === undefined) return next();
    json(res, authorizationServer(only));
  });
  // RFC 8414 §3.1 path-aware, plus the issuer-relative location some clients probe. No
  // openid-configuration: this is not an OpenID Provider (no ID tokens, no JWKS).
  for (const path of [
    '/.well-known/oauth-authorization-server/oauth/:ws',
    '/oauth/:ws/.well-known/oauth-authorization-server',
  ]) {
    router.get(path, (req, res, next) => {
      const workspace = oauthWorkspace(String(req.params.ws));
      if (workspace === undefined) return next();
      json(res, authorizationServer(workspace));
    });
  }

  router.get('/oauth/callback', (req, res, next) => {
    handleCallback(req, res).catch(next);
  });

  const handleCallback = async (req: Request, res: Response): Promise<void> => {
    const browser = readCookie(req, BROWSER_COOKIE);
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    let flow = state === undefined ? undefined : repo.flowByUpstreamState(sha256Hex(state));
    if (state === undefined && browser !== undefined) {
      // With state off toward the upstream, the browser binding alone finds the flow.
      const latest = repo.latestUpstreamFlow(sha256Hex(browser));
      const workspace = latest === undefined ? undefined : oauthWorkspace(latest.workspaceId);
      if (workspace?.auth.type === 'oauth2' && !workspace.auth.state) flow = latest;
    }
    if (
      flow === undefined ||
      browser === undefined ||
      flow.stage !== 'upstream' ||
      flow.expiresAt < clock() ||
      !safeEqual(flow.browserHash, sha256Hex(browser))
    ) {
      options.logger?.warn('OAuth callback rejected: missing, unknown, reused or expired state');
      sendErrorPage(
        res,
        400,
        'Authorization failed',
        'This authorization response does not match a pending request from this browser (missing, wrong, reused or expired state).',
      );
      return;
    }
    const entry = endpointsFor(flow.workspaceId);
    if (entry === undefined) {
      sendErrorPage(res, 404, 'Unknown workspace', 'This workspace no longer exists.');
      return;
    }
    await entry.server.callback(req, res, flow, state);
  };

  const perWorkspace =
    (pick: (entry: WorkspaceEndpoints) => RequestHandler): RequestHandler =>
    (req, res, next) => {
      const id = req.params.ws;
      const entry = endpointsFor(typeof id === 'string' ? id : undefined);
      if (entry === undefined) return next();
      pick(entry)(req, res, next);
    };

  router.use(
    '/oauth/:ws/authorize',
    perWorkspace((e) => e.authorize),
  );
  router.use(
    '/oauth/:ws/token',
    perWorkspace((e) => e.token),
  );
  router.use(
    '/oauth/:ws/register',
    perWorkspace((e) => e.register),
  );
  router.use(
    '/oauth/:ws/revoke',
    perWorkspace((e) => e.revoke),
  );
  router.post(
    '/oauth/:ws/consent',
    express.urlencoded({ extended: false, limit: '8kb' }),
    perWorkspace((e) => (req, res, next) => {
      e.server.decide(req, res).catch(next);
    }),
  );

  const purge = setInterval(() => repo.purgeExpired(clock()), 600_000);
  purge.unref();

  return {
    router,
    repo,
    lifecycle,
    async authorize(req, res, ws) {
      const entry = endpointsFor(ws.id);
      const urls = workspaceUrls(publicUrl, ws.id);
      const scopes = ws.auth.type === 'oauth2' ? ws.auth.scopes.join(' ') : '';
      const scope = scopes === '' ? '' : `, scope="${scopes}"`;
      const challenge = (error: string) =>
        `Bearer ${error}resource_metadata="${urls.resourceMetadata}"${scope}`;
      const token = bearerToken(req.headers.authorization);
      if (entry !== undefined && token !== undefined) {
        try {
          const info = await entry.server.verifyAccessToken(token);
          const grantId = typeof info.extra?.grantId === 'string' ? info.extra.grantId : undefined;
          // An expired upstream token is refreshed here, so that an upstream invalid_grant
          // answers this very request with 401 rather than a tool error.
          if (grantId !== undefined && usesGrantTokens(ws)) {
            await lifecycle.checkGrant(ws, grantId);
          }
          return {
            grantId,
            scopes: [...info.scopes],
            resourceMetadata: urls.resourceMetadata,
            invalidTokenChallenge: challenge('error="invalid_token", '),
          };
        } catch {
          // Answered below, without saying why (an upstream invalid_grant included).
        }
      }
      const error = req.headers.authorization === undefined ? '' : 'error="invalid_token", ';
      res.setHeader('WWW-Authenticate', challenge(error));
      res.status(401).json({
        error: req.headers.authorization === undefined ? 'unauthorized' : 'invalid_token',
        error_description: 'authorization required',
      });
      return undefined;
    },
    credentialsFor: () => credentials,
    close: () => clearInterval(purge),
  };
}

/** Workspaces whose MCP grants carry upstream tokens of their own (not one service token). */
function usesGrantTokens(ws: Workspace): boolean {
  return ws.auth.type === 'oauth2' && ws.auth.grant !== 'client_credentials';
}
