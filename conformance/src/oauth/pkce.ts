/**
 * PKCE values: verifiers drawn from the unreserved set (43 to 128 characters) and S256 challenges.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';

export const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

/** Verifiers as RFC 7636 §4.1 allows them: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~]. */
export function verifierArbitrary(): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...UNRESERVED), minLength: 43, maxLength: 128 });
}

/** BASE64URL(SHA256(ASCII(verifier))). @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2 */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** A fresh high-entropy verifier (43 characters). */
export function randomVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** True when `challenge` has the shape of an S256 challenge (43 base64url characters). */
export function isS256Challenge(challenge: string | null): boolean {
  return challenge !== null && /^[A-Za-z0-9_-]{43}$/.test(challenge);
}

/** Hex sha256, the form the test server's events use for tokens. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Random opaque value for state. */
export function randomState(): string {
  return randomBytes(16).toString('base64url');
}
