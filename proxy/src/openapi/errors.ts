/**
 * Errors of the OpenAPI layer. A spec that cannot be used at all is a `SpecError` naming the JSON
 * pointer at fault; a tool call whose arguments cannot become a request is a `RequestBuildError`.
 */

export type SpecErrorCode =
  /** The spec could not be read (network failure, HTTP error status, missing file). */
  | 'fetch_failed'
  /** The spec URL's host is a private or loopback address the operator has not allowed. */
  | 'forbidden_address'
  /** The spec is larger than the configured limit. */
  | 'too_large'
  /** Fetching the spec took longer than the configured limit. */
  | 'timeout'
  /** More redirects than the configured limit. */
  | 'too_many_redirects'
  /** The URL is not http(s), or otherwise unusable. */
  | 'invalid_url'
  /** Neither valid JSON nor valid YAML. */
  | 'parse_error'
  /** Not OpenAPI 3.0, 3.1 or Swagger 2.0. */
  | 'unsupported_version'
  /** swagger2openapi could not convert a Swagger 2.0 document. */
  | 'conversion_failed'
  /** The document is OpenAPI but structurally unusable (e.g. `paths` is not an object). */
  | 'invalid_spec'
  /** A `$ref` outside the operations could not be resolved (e.g. a remote document). */
  | 'ref_error';

/** A spec that cannot be used, with the JSON pointer at fault (`''` for the whole document). */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  readonly code: SpecErrorCode;
  /** JSON pointer into the document, e.g. `/paths/~1items`, or `''` for the document itself. */
  readonly pointer: string;

  constructor(code: SpecErrorCode, message: string, pointer = '', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.pointer = pointer;
  }
}

export type RequestBuildErrorCode =
  /** A required argument (path parameter, required query parameter, required body) is absent. */
  | 'ERR_MISSING_ARGUMENT'
  /** An argument cannot be serialized where it goes (e.g. a CR/LF in a header, `..` in a path). */
  | 'ERR_INVALID_ARGUMENT';

/** Tool arguments that cannot be turned into an upstream request; `arg` names the argument. */
export class RequestBuildError extends Error {
  override readonly name = 'RequestBuildError';
  readonly code: RequestBuildErrorCode;
  readonly arg: string;

  constructor(code: RequestBuildErrorCode, arg: string, message: string) {
    super(message);
    this.code = code;
    this.arg = arg;
  }
}

/** Escapes one reference token for a JSON pointer (RFC 6901 §3). */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Builds a JSON pointer from raw reference tokens. */
export function toPointer(tokens: readonly string[]): string {
  return tokens.map((t) => `/${escapePointerToken(t)}`).join('');
}
