/**
 * The proxy's logger: pino, with every credential redacted before a line is written. Two layers:
 * pino's `redact` paths for the usual places (fast), and a formatter that walks each log object
 * and censors any key that names a credential and any `Bearer …`/`Basic …` value, wherever it sits.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** What a redacted value is replaced by. */
export const REDACTED = '[redacted]';

/** Keys whose values are credentials, matched case-insensitively anywhere in a log object. */
const SECRET_KEY =
  /(authorization|cookie|password|passwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|encryption[-_]?key|client[-_]?assertion|credential|^code$|code[-_]?verifier)/i;

/** Credentials embedded in free text. */
const SECRET_IN_TEXT = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
/** `user:password@` in URLs. */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi;
/** Credential-named query parameters in URLs. */
const SECRET_QUERY =
  /([?&](?:access_token|refresh_token|id_token|token|code|client_secret|api[_-]?key|key|secret|password|sig|signature)=)[^&#\s"]+/gi;

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.Authorization',
  'headers.cookie',
  '*.authorization',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.accessKey',
  'token',
  'accessKey',
  'clientSecret',
];

export interface LoggerOptions {
  /** pino level; `'silent'` for tests. Default `'info'`. */
  level?: string;
  /** Where lines go (default stdout); tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  name?: string;
}

/** Creates the proxy's redacting logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const config: pino.LoggerOptions = {
    name: options.name ?? 'proxy',
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { err: serializeError, req: serializeRequest },
    formatters: { log: (object) => redactDeep(object) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        // The message string is not covered by `formatters.log`: scrub it too. An Error passed
        // alone would become the message verbatim, so its message is scrubbed the same way.
        const [first] = args;
        if (args.length === 1 && first instanceof Error) {
          method.apply(this, [{ err: first }, redactText(first.message)]);
          return;
        }
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}

/** A logger that writes nothing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Replaces `Bearer <token>`, `Basic <credentials>`, URL passwords and credential query parameters. */
export function redactText(text: string): string {
  return text
    .replace(SECRET_IN_TEXT, (_match, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(URL_USERINFO, (_match, scheme: string) => `${scheme}${REDACTED}@`)
    .replace(SECRET_QUERY, (_match, name: string) => `${name}${REDACTED}`);
}

/** A copy of `value` with every credential-named key censored and every string scrubbed. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth limit]';
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value);
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    result[key] =
      SECRET_KEY.test(key) && item !== null && item !== undefined && typeof item !== 'boolean'
        ? REDACTED
        : redactDeep(item, depth + 1);
  }
  return result;
}

function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return redactDeep(error);
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: redactText(error.message),
    ...(code === undefined ? {} : { code }),
    ...(error.stack === undefined ? {} : { stack: redactText(error.stack) }),
  };
}

/** Method, path and a few safe headers of an incoming request; never its credentials. */
function serializeRequest(req: unknown): unknown {
  if (req === null || typeof req !== 'object') return req;
  const { method, url, originalUrl, headers } = req as {
    method?: string;
    url?: string;
    originalUrl?: string;
    headers?: Record<string, unknown>;
  };
  return {
    method,
    url: originalUrl ?? url,
    host: headers?.host,
    userAgent: headers?.['user-agent'],
  };
}
