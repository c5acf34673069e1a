/**
 * The test server's options: what a caller of `startTestServer` or the CLI can set, their
 * defaults, and the checks that turn a wrong value into one clear message.
 */
import { randomBytes } from 'node:crypto';

/** How the demo API authenticates callers. */
export const MODES = ['oauth', 'dcr', 'bearer', 'apikey', 'headers', 'none'] as const;
export type Mode = (typeof MODES)[number];

export const TOKEN_FORMATS = ['jwt', 'opaque'] as const;
export type TokenFormat = (typeof TOKEN_FORMATS)[number];

/** The API's scopes, also the default scopes of a request that names none. */
export const API_SCOPES = ['items:read', 'items:write', 'users:read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const CLIENT_ID = 'test-client-id';
/** The proxy's default upstream callback, always registered for the pre-registered client. */
export const DEFAULT_REDIRECT_URI = 'http://localhost:8080/oauth/callback';
export const DEFAULT_PORT = 3456;
export const TENANT_HEADER = 'X-Tenant-Id';
export const TENANT_VALUE = 'test-tenant';
export const SECRET_HEADER = 'X-Api-Secret';
export const API_KEY_HEADER = 'X-Api-Key';

/** Accounts of the login page; `--auto-approve` logs in the first one. */
export const TEST_USERS: ReadonlyArray<{ username: string; password: string; name: string }> = [
  { username: 'alice', password: 'alice-pass', name: 'Alice Example' },
  { username: 'bob', password: 'bob-pass', name: 'Bob Example' },
];

export interface TestServerOptions {
  mode: Mode;
  /** 0 picks a free port. */
  port: number;
  host: string;
  clientSecret: string;
  redirectUris: string[];
  autoApprove: boolean;
  /** Seconds. */
  accessTokenTtl: number;
  /** Seconds. */
  refreshTokenTtl: number;
  tokenFormat: TokenFormat;
  controlToken: string;
  /** RFC 7591 initial access token required by /auth/register when set (dcr mode). */
  registrationToken: string | undefined;
  /** The static credential of the bearer, apikey and headers modes. */
  apiSecret: string;
  /** No banner, no request log. */
  quiet: boolean;
}

/** URL-safe random text of `bytes` random bytes. */
export function randomToken(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

const API_SECRET_PREFIX: Record<Mode, string> = {
  oauth: 'tk_',
  dcr: 'tk_',
  bearer: 'tk_',
  apikey: 'ak_',
  headers: 'hs_',
  none: 'tk_',
};

function assertTtl(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name} must be an integer number of seconds >= 1, got ${value}`);
  }
}

/** Fills in defaults (random secrets per start) and rejects impossible values. */
export function resolveOptions(input: Partial<TestServerOptions> = {}): TestServerOptions {
  const mode = input.mode ?? 'oauth';
  if (!MODES.includes(mode)) {
    throw new TypeError(`unknown mode "${mode}": use one of ${MODES.join(', ')}`);
  }
  const port = input.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`port must be an integer from 0 to 65535, got ${port}`);
  }
  const tokenFormat = input.tokenFormat ?? 'jwt';
  if (!TOKEN_FORMATS.includes(tokenFormat)) {
    throw new TypeError(`unknown token format "${tokenFormat}": use jwt or opaque`);
  }
  const accessTokenTtl = input.accessTokenTtl ?? 3600;
  const refreshTokenTtl = input.refreshTokenTtl ?? 86400;
  assertTtl('access token TTL', accessTokenTtl);
  assertTtl('refresh token TTL', refreshTokenTtl);
  const redirectUris = input.redirectUris ?? [];
  for (const uri of redirectUris) {
    if (!URL.canParse(uri) || new URL(uri).hash !== '') {
      throw new TypeError(`redirect URI "${uri}" is not an absolute URL without fragment`);
    }
  }
  return {
    mode,
    port,
    host: input.host ?? '127.0.0.1',
    clientSecret: input.clientSecret ?? randomToken('cs_', 32),
    redirectUris,
    autoApprove: input.autoApprove ?? false,
    accessTokenTtl,
    refreshTokenTtl,
    tokenFormat,
    controlToken: input.controlToken ?? randomToken('ctl_'),
    registrationToken: input.registrationToken,
    apiSecret: input.apiSecret ?? randomToken(API_SECRET_PREFIX[mode]),
    quiet: input.quiet ?? false,
  };
}
