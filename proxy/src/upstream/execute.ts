/**
 * Sends a tool call's HTTP request to the upstream API: credentials attached, keep-alive
 * connections, one deadline for the whole exchange, a cap on the response size, and one retry
 * after the credentials were renewed on a 401.
 */
import { Agent, type Dispatcher, request } from 'undici';
import type { CallContext, UpstreamCredentials, UpstreamRequest } from '../types';

/** Why an upstream exchange produced no response. */
export type UpstreamErrorCode =
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_RESPONSE_TOO_LARGE'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_ABORTED'
  | 'UPSTREAM_CREDENTIALS';

/** An upstream exchange that produced no usable response. The message never holds a credential. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly code: UpstreamErrorCode;
  constructor(code: UpstreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** What came back from the upstream. */
export interface UpstreamResponse {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The body decoded as UTF-8. */
  body: string;
  /** Milliseconds from the first byte sent to the last byte read, retries included. */
  durationMs: number;
}

export interface ExecuteOptions {
  /** Defaults to one shared keep-alive Agent (see `createUpstreamAgent`). */
  dispatcher?: Dispatcher;
  /** Deadline for the whole exchange, headers and body, retry included. Default 30 s. */
  timeoutMs?: number;
  /** The exchange fails past this many body bytes. Default 10 MiB. */
  maxResponseBytes?: number;
  /** Clock for `durationMs`. */
  now?: () => number;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/**
 * Headers a tool call must not set: connection management belongs to undici, and credentials
 * belong to the workspace's UpstreamCredentials only. OpenAPI itself ignores header parameters
 * named Authorization (OAS 3.1 §4.8.12.1), so this drops nothing a spec may legitimately send,
 * and an MCP client's own Authorization can never ride along.
 */
const REQUEST_HEADERS_DROPPED = new Set([
  'authorization',
  'proxy-authorization',
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

/** A keep-alive connection pool per upstream origin. */
export function createUpstreamAgent(
  options: { connectionsPerOrigin?: number; keepAliveTimeoutMs?: number } = {},
): Agent {
  return new Agent({
    connections: options.connectionsPerOrigin ?? 64,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
    pipelining: 1,
  });
}

let sharedAgent: Agent | undefined;

function defaultDispatcher(): Agent {
  sharedAgent ??= createUpstreamAgent();
  return sharedAgent;
}

/**
 * Executes `req` with the workspace's credentials. On a 401, when `creds.onUnauthorized` reports
 * fresh credentials, retries exactly once. 4xx/5xx answers are returned, not thrown; only a
 * missing answer (timeout, size cap, network, abort) throws an `UpstreamError`.
 */
export async function executeUpstream(
  req: UpstreamRequest,
  creds: UpstreamCredentials,
  ctx: CallContext,
  opts: ExecuteOptions = {},
): Promise<UpstreamResponse> {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  // One controller, a cleared timer and a removed listener: AbortSignal.timeout() would keep
  // every call's timer and signal alive for the whole timeout, long after the call is done.
  const controller = new AbortController();
  const deadline = { expired: false };
  const timer = setTimeout(() => {
    deadline.expired = true;
    controller.abort();
  }, timeoutMs);
  const cancel = () => controller.abort();
  if (ctx.signal?.aborted) cancel();
  ctx.signal?.addEventListener('abort', cancel, { once: true });
  const started = now();
  const exchange: Exchange = {
    dispatcher: opts.dispatcher ?? defaultDispatcher(),
    maxBytes: opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    signal: controller.signal,
    deadline,
    timeoutMs,
  };

  let result: Omit<UpstreamResponse, 'durationMs'>;
  try {
    result = await send(req, await credentialHeaders(creds, ctx), exchange);
    if (result.status === 401 && creds.onUnauthorized && (await creds.onUnauthorized(ctx))) {
      result = await send(req, await credentialHeaders(creds, ctx), exchange);
    }
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', cancel);
  }
  return { ...result, durationMs: now() - started };
}

async function credentialHeaders(
  creds: UpstreamCredentials,
  ctx: CallContext,
): Promise<Record<string, string>> {
  try {
    return await creds.headers(ctx);
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw new UpstreamError('UPSTREAM_CREDENTIALS', 'upstream credentials are unavailable', {
      cause: error,
    });
  }
}

interface Exchange {
  dispatcher: Dispatcher;
  maxBytes: number;
  signal: AbortSignal;
  deadline: { expired: boolean };
  timeoutMs: number;
}

/** Merges tool headers and credential headers; a credential wins over a same-named tool header. */
export function mergeHeaders(
  toolHeaders: Record<string, string>,
  credentials: Record<string, string>,
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries(toolHeaders)) {
    const lower = name.toLowerCase();
    if (!REQUEST_HEADERS_DROPPED.has(lower)) merged[lower] = value;
  }
  for (const [name, value] of Object.entries(credentials)) merged[name.toLowerCase()] = value;
  return merged;
}

async function send(
  req: UpstreamRequest,
  credentials: Record<string, string>,
  exchange: Exchange,
): Promise<Omit<UpstreamResponse, 'durationMs'>> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(req.url, {
      method: req.method,
      headers: mergeHeaders(req.headers, credentials),
      body: req.body,
      dispatcher: exchange.dispatcher,
      signal: exchange.signal,
    });
  } catch (error) {
    throw failure(error, exchange, req);
  }

  const headers = flattenHeaders(response.headers);
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > exchange.maxBytes) {
    response.body.destroy();
    throw tooLarge(exchange.maxBytes);
  }

  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > exchange.maxBytes) {
        response.body.destroy();
        throw tooLarge(exchange.maxBytes);
      }
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw failure(error, exchange, req);
  }
  return {
    status: response.statusCode,
    headers,
    body: Buffer.concat(chunks, size).toString('utf8'),
  };
}

function tooLarge(maxBytes: number): UpstreamError {
  return new UpstreamError(
    'UPSTREAM_RESPONSE_TOO_LARGE',
    `upstream response exceeds ${maxBytes} bytes`,
  );
}

function failure(error: unknown, exchange: Exchange, req: UpstreamRequest): UpstreamError {
  if (exchange.deadline.expired) {
    return new UpstreamError(
      'UPSTREAM_TIMEOUT',
      `upstream did not answer within ${exchange.timeoutMs} ms`,
      { cause: error },
    );
  }
  if (exchange.signal.aborted) {
    return new UpstreamError('UPSTREAM_ABORTED', 'the call was cancelled', { cause: error });
  }
  return new UpstreamError(
    'UPSTREAM_UNREACHABLE',
    `upstream ${req.method} ${originOf(req.url)} failed: ${describe(error)}`,
    { cause: error },
  );
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return typeof code === 'string' ? code : error.message;
  }
  return String(error);
}

function flattenHeaders(raw: Dispatcher.ResponseData['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
