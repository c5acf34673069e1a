/** Signing keys generated per start, so oidc-provider never falls back to its development keys. */
import {
  type createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  randomUUID,
} from 'node:crypto';

export interface SigningKeys {
  /** The private JWKS handed to oidc-provider. */
  jwks: { keys: JsonWebKey[] };
  /** Public keys by `kid`, for verifying our own access tokens at the API. */
  publicKeys: Map<string, ReturnType<typeof createPublicKey>>;
}

/** One RS256 key (what RFC 9068 requires support for) and one ES256 key. */
export function generateSigningKeys(): SigningKeys {
  const publicKeys = new Map<string, ReturnType<typeof createPublicKey>>();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys: JsonWebKey[] = [];
  for (const [pair, alg] of [
    [rsa, 'RS256'],
    [ec, 'ES256'],
  ] as const) {
    const kid = randomUUID();
    keys.push({ ...pair.privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' });
    publicKeys.set(kid, pair.publicKey);
  }
  return { jwks: { keys }, publicKeys };
}
