/**
 * The typed failure of a grant's upstream credentials, kept free of other imports so that the MCP
 * endpoint can recognize it without loading the OAuth module.
 */

export type GrantErrorCode =
  /** The downstream grant is gone or revoked: the MCP client must authorize again. */
  | 'ERR_GRANT_REVOKED'
  /** The upstream could not be reached to refresh an expired token. */
  | 'ERR_UPSTREAM_UNAVAILABLE';

export class GrantError extends Error {
  override readonly name = 'GrantError';
  readonly code: GrantErrorCode;

  constructor(code: GrantErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * True when `error` (or the error it wraps, as an UpstreamError's `cause`) says the grant ended
 * for good: the MCP client has to authorize again, so the answer is 401, not a tool error.
 */
export function isGrantRevoked(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof GrantError && e.code === 'ERR_GRANT_REVOKED') return true;
  }
  return false;
}
