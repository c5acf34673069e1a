/**
 * Express middleware in front of oidc-provider: counts requests per endpoint and grant type,
 * logs token/authorize/register/revoke/introspect events with their outcome, and fires the
 * faults armed through the control API before the provider sees the request.
 */
import { parse as parseQuery } from 'node:querystring';
import type { NextFunction, Request, Response } from 'express';
import type { Fault, FaultTable } from './faults';
import { DEFAULT_SCOPE } from './provider';
import type { EventKind, Recorder, ServerEvent } from './recorder';
import { sha256Hex } from './tokens';

/** How many redeemed refresh tokens are remembered to flag a reuse. */
const MAX_REDEEMED = 100_000;

/** Larger token request bodies are refused, as oidc-provider itself does. */
const BODY_LIMIT = 56 * 1024;

export interface InstrumentOptions {
  recorder: Recorder;
  faults: FaultTable;
  autoApprove: boolean;
  /** Remembers which client each issued access token belongs to (for control revoke). */
  onAccessTokenIssued: (tokenSha256: string, clientId: string) => void;
}

const ENDPOINTS: Array<[RegExp, string, EventKind | undefined]> = [
  [/^\/auth\/authorize(\/[^/]+)?$/, 'authorize', 'authorize'],
  [/^\/auth\/token$/, 'token', 'token'],
  [/^\/auth\/register(\/.*)?$/, 'register', 'register'],
  [/^\/auth\/introspect$/, 'introspect', 'introspect'],
  [/^\/auth\/revoke$/, 'revoke', 'revoke'],
  [/^\/auth\/userinfo$/, 'userinfo', undefined],
  [/^\/auth\/jwks$/, 'jwks', undefined],
  [
    /^\/\.well-known\/(oauth-authorization-server|openid-configuration)(\/.*)?$/,
    'metadata',
    undefined,
  ],
];

/** A token-endpoint body over BODY_LIMIT. */
class BodyTooLargeError extends Error {}

async function readBody(req: Request): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > BODY_LIMIT) throw new BodyTooLargeError('request entity too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Makes an already-read body readable again for oidc-provider, which reads `req` itself and
 * warns when a framework parsed the body before it.
 */
function replayBody(req: Request, body: Buffer): void {
  Object.defineProperty(req, 'readable', { value: true, configurable: true });
  Object.defineProperty(req, 'iterator', {
    configurable: true,
    value: async function* replay() {
      yield body;
    },
  });
  req.headers['content-length'] = String(body.length);
}

function basicClientId(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header ? /^Basic +(\S+)$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, '%20'));
  } catch {
    return undefined;
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Keeps a copy of what the handler writes, for the event log (bodies here are small). */
function captureBody(res: Response): () => string {
  const chunks: Buffer[] = [];
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  const keep = (chunk: unknown) => {
    if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    keep(chunk);
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as Response['write'];
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk !== 'function') keep(chunk);
    return (end as (...a: unknown[]) => Response)(chunk, ...rest);
  }) as Response['end'];
  return () => Buffer.concat(chunks).toString('utf8');
}

function jsonField(text: string, field: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && field in value) {
      const v = (value as Record<string, unknown>)[field];
      return typeof v === 'string' ? v : undefined;
    }
  } catch {
    // not JSON: no field
  }
  return undefined;
}

/** The RFC 6749 status for an OAuth error answered by a fault. */
function oauthErrorStatus(fault: Fault): number {
  if (fault.status !== undefined) return fault.status;
  if (fault.error === 'invalid_client') return 401;
  if (fault.error === 'temporarily_unavailable') return 503;
  if (fault.error === 'server_error') return 500;
  return 400;
}

/**
 * Answers the request as the fault says. Returns true when the fault answered (the caller must
 * stop), false when the request goes on (after a delay).
 */
export async function applyFault(
  fault: Fault,
  req: Request,
  res: Response,
  api: boolean,
): Promise<boolean> {
  switch (fault.kind) {
    case 'delay':
      await new Promise((resolve) => setTimeout(resolve, fault.delay_ms ?? 0));
      return false;
    case 'drop':
      req.socket.destroy();
      return true;
    case 'status':
      res
        .status(fault.status ?? 503)
        .set('Retry-After', '1')
        .json({ error: 'injected_fault', error_description: `injected HTTP ${fault.status}` });
      return true;
    case 'oauth_error': {
      const status = oauthErrorStatus(fault);
      const body: Record<string, string> = { error: fault.error ?? 'server_error' };
      if (fault.error_description) body.error_description = fault.error_description;
      if (api && status === 401) {
        res.set('WWW-Authenticate', `Bearer error="${body.error}"`);
      }
      res.status(status).set('Cache-Control', 'no-store').json(body);
      return true;
    }
  }
}

/**
 * Adjusts an authorization request's query in place before oidc-provider sees it; says whether
 * it changed. A request naming no API scope gets the default ones (instead of a token that can
 * call nothing), and with auto-approve `prompt=none` is dropped: no page is shown either way,
 * so the request succeeds instead of failing with login_required.
 */
export function normalizeAuthorizationRequest(
  params: URLSearchParams,
  autoApprove: boolean,
): boolean {
  let changed = false;
  const scope = params.get('scope') ?? '';
  const apiScopes = DEFAULT_SCOPE.split(' ');
  if (!scope.split(' ').some((s) => apiScopes.includes(s))) {
    params.set('scope', [scope, DEFAULT_SCOPE].filter(Boolean).join(' '));
    changed = true;
  }
  const prompts = (params.get('prompt') ?? '').split(' ').filter(Boolean);
  if (autoApprove && prompts.includes('none')) {
    const rest = prompts.filter((p) => p !== 'none');
    if (rest.length > 0) params.set('prompt', rest.join(' '));
    else params.delete('prompt');
    changed = true;
  }
  return changed;
}

/** The middleware for every request that oidc-provider will handle. */
export function instrumentProvider(options: InstrumentOptions) {
  const { recorder, faults } = options;
  const redeemed = new Set<string>();

  return async function instrument(req: Request, res: Response, next: NextFunction) {
    const path = req.path;
    const match = ENDPOINTS.find(([re]) => re.test(path));
    if (!match) return next();
    const [, endpoint, kind] = match;
    const isResume = endpoint === 'authorize' && path !== '/auth/authorize';
    if (!isResume) recorder.hit(endpoint);
    if (!kind) return next();

    const event: Omit<ServerEvent, 'seq' | 'at'> = {
      kind,
      method: req.method,
      path,
      status: 0,
    };

    const getBody = captureBody(res);
    res.on('finish', () => {
      event.status = res.statusCode;
      const text = getBody();
      if (kind === 'authorize') {
        const location = res.get('location');
        if (location && URL.canParse(location)) {
          const error = new URL(location).searchParams.get('error');
          if (error) event.error = error;
        } else if (res.statusCode >= 400) {
          event.error = jsonField(text, 'error') ?? 'invalid_request';
        }
        // A resume that leads to another interaction page is not an authorization response.
        if (!isResume || !location?.includes('/interaction/')) recorder.record(event);
        return;
      }
      const error = jsonField(text, 'error');
      if (error) event.error = error;
      if (kind === 'register' && !event.client_id) {
        const clientId = jsonField(text, 'client_id');
        if (clientId) event.client_id = clientId;
      }
      if (kind === 'token' && res.statusCode === 200 && !event.fault_id) {
        const accessToken = jsonField(text, 'access_token');
        if (accessToken && event.client_id) {
          options.onAccessTokenIssued(sha256Hex(accessToken), event.client_id);
        }
        if (event.refresh_token_sha256) {
          redeemed.add(event.refresh_token_sha256);
          if (redeemed.size > MAX_REDEEMED) {
            const oldest = redeemed.values().next().value;
            if (oldest !== undefined) redeemed.delete(oldest);
          }
        }
      }
      recorder.record(event);
    });
    res.on('close', () => {
      if (!res.writableFinished)
        recorder.record({ ...event, status: 0, error: 'connection_dropped' });
    });

    try {
      if (kind === 'authorize' && !isResume) {
        const query = req.query as Record<string, unknown>;
        if (typeof query.client_id === 'string') event.client_id = query.client_id;
        if (req.method === 'GET') {
          const url = new URL(req.originalUrl, 'http://placeholder');
          if (normalizeAuthorizationRequest(url.searchParams, options.autoApprove)) {
            req.url = `${url.pathname}${url.search}`;
          }
        }
      }

      if (
        req.method === 'POST' &&
        (kind === 'token' || kind === 'revoke' || kind === 'introspect')
      ) {
        const raw = await readBody(req);
        const params = req.is('application/x-www-form-urlencoded')
          ? parseQuery(raw.toString('utf8'))
          : {};
        const clientId = first(params.client_id) ?? basicClientId(req);
        if (clientId) event.client_id = clientId;
        let body = raw;
        if (kind === 'token') {
          const grantType = first(params.grant_type);
          const refreshToken = first(params.refresh_token);
          if (grantType) event.grant_type = grantType;
          if (refreshToken) {
            const hash = sha256Hex(refreshToken);
            event.refresh_token_sha256 = hash;
            event.refresh_token_reused = redeemed.has(hash);
          }
          if (grantType === 'client_credentials' && !first(params.scope)) {
            // client_credentials without scope gets the default API scopes (RFC 6749 §3.3).
            body = Buffer.from(
              `${raw.toString('utf8')}&scope=${encodeURIComponent(DEFAULT_SCOPE)}`,
            );
          }
        }
        replayBody(req, body);
        if (kind === 'token') {
          const fault = faults.take(
            'token',
            event.grant_type ? { grantType: event.grant_type } : {},
          );
          if (fault) {
            event.fault_id = fault.id;
            if (await applyFault(fault, req, res, false)) return;
            // A delay: the real handler answers now; the event keeps the fault id.
          }
        }
      }
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) return next(err);
      res
        .status(413)
        .set('Connection', 'close')
        .json({ error: 'invalid_request', error_description: 'request body too large' });
      return;
    }

    next();
  };
}
