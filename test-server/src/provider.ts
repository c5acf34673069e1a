/**
 * The authorization server: oidc-provider configured for this test server (routes under /auth,
 * PKCE S256 required, resource indicators with the demo API as the default audience, rotating
 * refresh tokens, TTLs read from mutable state so the control API can change them).
 */
import { randomBytes } from 'node:crypto';
import type ProviderClass from 'oidc-provider';
import type { ClientMetadata, Configuration, errors } from 'oidc-provider';
import { escapeHtml } from './html';
import type { SigningKeys } from './keys';
import {
  API_SCOPES,
  CLIENT_ID,
  DEFAULT_REDIRECT_URI,
  TEST_USERS,
  type TestServerOptions,
} from './options';
import type { MemoryStore } from './store';

export type Provider = ProviderClass;

/** Token lifetimes in seconds; the control API changes them at run time. */
export interface TtlState {
  accessToken: number;
  refreshToken: number;
  authorizationCode: number;
}

export const DEFAULT_AUTHORIZATION_CODE_TTL = 60;

/** Scopes granted when a request names none. */
export const DEFAULT_SCOPE = API_SCOPES.join(' ');

/** OpenID scopes offered besides the API scopes (mcp-remote falls back to these). */
const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];

/**
 * Loads oidc-provider, dropping only its "Unsupported runtime" notice: this project supports
 * Node >= 20.19 on purpose (see DESIGN.md) and the notice would sit in every banner.
 */
interface ProviderModule {
  default: typeof ProviderClass;
  errors: typeof errors;
}

function loadProviderModule(): ProviderModule {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
    warn(...args);
  };
  try {
    return require('oidc-provider') as ProviderModule;
  } finally {
    console.warn = warn;
  }
}

export interface ProviderSetup {
  options: TestServerOptions;
  issuer: string;
  apiUrl: string;
  keys: SigningKeys;
  store: MemoryStore;
  ttl: TtlState;
}

/** The pre-registered confidential client of the seed's step 1. */
export function preRegisteredClient(options: TestServerOptions): ClientMetadata {
  return {
    client_id: CLIENT_ID,
    client_secret: options.clientSecret,
    client_name: 'Pre-registered test client',
    grant_types: ['authorization_code', 'client_credentials', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [...new Set([DEFAULT_REDIRECT_URI, ...options.redirectUris])],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

function errorPage(out: Record<string, unknown>): string {
  const rows = Object.entries(out)
    .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(String(v))}</p>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Error</title></head><body><h1>Something went wrong</h1>${rows}</body></html>`;
}

/** Builds the oidc-provider instance; it is mounted into express by server.ts. */
export function createProvider(setup: ProviderSetup): Provider {
  const { options, issuer, apiUrl, keys, store, ttl } = setup;
  const { default: Provider, errors: oidcErrors } = loadProviderModule();
  const dcr = options.mode === 'dcr';

  const configuration: Configuration = {
    adapter: store.adapterFor(),
    clients: [preRegisteredClient(options)],
    jwks: keys.jwks as Configuration['jwks'],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: [...OIDC_SCOPES, ...API_SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
    },
    async findAccount(_ctx, sub) {
      const user = TEST_USERS.find((u) => u.username === sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            name: user.name,
            preferred_username: user.username,
            email: `${user.username}@example.test`,
          };
        },
      };
    },
    routes: {
      authorization: '/auth/authorize',
      token: '/auth/token',
      jwks: '/auth/jwks',
      introspection: '/auth/introspect',
      revocation: '/auth/revoke',
      registration: '/auth/register',
      userinfo: '/auth/userinfo',
      end_session: '/auth/logout',
    },
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    interactions: {
      url: async (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    clientBasedCORS: () => true,
    ttl: {
      AccessToken: () => ttl.accessToken,
      ClientCredentials: () => ttl.accessToken,
      RefreshToken: () => ttl.refreshToken,
      AuthorizationCode: () => ttl.authorizationCode,
      IdToken: () => ttl.accessToken,
      Grant: () => Math.max(14 * 24 * 3600, ttl.refreshToken),
      Interaction: () => 3600,
      Session: () => 24 * 3600,
    },
    async renderError(ctx, out) {
      ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      ctx.set('X-Frame-Options', 'DENY');
      ctx.type = 'html';
      ctx.body = errorPage({ ...out });
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) =>
          !(client.clientAuthMethod === 'none' && token.clientId !== client.clientId),
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      registration: dcr
        ? {
            enabled: true,
            initialAccessToken: options.registrationToken ?? false,
          }
        : { enabled: false },
      registrationManagement: dcr
        ? { enabled: true, rotateRegistrationAccessToken: false }
        : { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf?.[0] ?? apiUrl,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== apiUrl) {
            throw new oidcErrors.InvalidTarget(
              `unknown resource; the only resource server is ${apiUrl}`,
            );
          }
          return {
            scope: API_SCOPES.join(' '),
            audience: apiUrl,
            accessTokenTTL: ttl.accessToken,
            accessTokenFormat: options.tokenFormat,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  };

  const provider = new Provider(issuer, configuration);
  return provider;
}
