/**
 * Checks the access tokens the demo API receives: our own RFC 9068 JWTs (signature, `typ`,
 * issuer, audience, expiry) or, with `--token-format opaque`, tokens looked up in the provider.
 */
import { createHash, verify as verifySignature } from 'node:crypto';
import type { SigningKeys } from './keys';
import type { Provider } from './provider';

export interface VerifiedToken {
  clientId: string;
  subject: string | undefined;
  scopes: Set<string>;
}

/** A token the API must refuse: RFC 6750 `invalid_token`. */
export class InvalidTokenError extends Error {
  readonly code = 'invalid_token';
}

/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Hex SHA-256, how tokens appear in events and revocation lists. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function decodeJson(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTokenError('malformed token');
  }
  return value as Record<string, unknown>;
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  keys: SigningKeys;
  provider: Provider;
  /** Hashes of tokens revoked through the control API. */
  isRevoked: (tokenSha256: string) => boolean;
  now?: () => number;
}

/**
 * Returns a function that verifies a presented access token or throws InvalidTokenError.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4 (validating JWT access tokens)
 */
export function createTokenVerifier(
  options: TokenVerifierOptions,
): (token: string) => Promise<VerifiedToken> {
  const now = options.now ?? Date.now;

  function verifyJwt(token: string): VerifiedToken {
    const [h, p, s] = token.split('.');
    if (h === undefined || p === undefined || s === undefined) {
      throw new InvalidTokenError('malformed token');
    }
    let header: Record<string, unknown>;
    let payload: Record<string, unknown>;
    try {
      header = decodeJson(h);
      payload = decodeJson(p);
    } catch {
      throw new InvalidTokenError('malformed token');
    }
    const key =
      typeof header.kid === 'string' ? options.keys.publicKeys.get(header.kid) : undefined;
    if (!key || (header.alg !== 'RS256' && header.alg !== 'ES256')) {
      throw new InvalidTokenError('token not signed by this server');
    }
    const valid = verifySignature(
      'sha256',
      Buffer.from(`${h}.${p}`),
      header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
      Buffer.from(s, 'base64url'),
    );
    if (!valid) throw new InvalidTokenError('bad token signature');
    if (header.typ !== 'at+jwt') throw new InvalidTokenError('not an access token');
    if (payload.iss !== options.issuer) throw new InvalidTokenError('wrong token issuer');
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.includes(options.audience)) {
      throw new InvalidTokenError(`token audience is not ${options.audience}`);
    }
    if (typeof payload.exp !== 'number' || payload.exp * 1000 <= now()) {
      throw new InvalidTokenError('token expired');
    }
    return {
      clientId: String(payload.client_id ?? ''),
      subject: typeof payload.sub === 'string' ? payload.sub : undefined,
      scopes: new Set(typeof payload.scope === 'string' ? payload.scope.split(' ') : []),
    };
  }

  async function verifyOpaque(token: string): Promise<VerifiedToken> {
    const { provider } = options;
    const found =
      (await provider.AccessToken.find(token)) ?? (await provider.ClientCredentials.find(token));
    if (!found || found.isExpired) throw new InvalidTokenError('unknown or expired token');
    const aud = found.aud === undefined ? [] : Array.isArray(found.aud) ? found.aud : [found.aud];
    if (!aud.includes(options.audience)) {
      throw new InvalidTokenError(`token audience is not ${options.audience}`);
    }
    const accountId = 'accountId' in found ? found.accountId : undefined;
    return {
      clientId: found.clientId ?? '',
      subject: typeof accountId === 'string' ? accountId : undefined,
      scopes: new Set(found.scope ? found.scope.split(' ') : []),
    };
  }

  return async (token: string) => {
    if (!B64TOKEN.test(token)) throw new InvalidTokenError('malformed token');
    if (options.isRevoked(sha256Hex(token))) throw new InvalidTokenError('token revoked');
    return token.split('.').length === 3 ? verifyJwt(token) : verifyOpaque(token);
  };
}
