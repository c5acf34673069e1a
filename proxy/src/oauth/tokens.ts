/** Random opaque values, their hashes, and constant-time comparison: the OAuth module's primitives. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random opaque token: 32 bytes, base64url, with an optional readable prefix. */
export function randomToken(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** Hex sha256 of a token: what the store keeps instead of the token. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compares two secrets without leaking where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}

/** RFC 6750 §2.1 b64token syntax, checked before any lookup. */
const BEARER_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The token of an `Authorization: Bearer …` header, or undefined when absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  const token = match?.[1];
  if (token === undefined || !BEARER_SYNTAX.test(token) || token.length > 4096) return undefined;
  return token;
}
