/**
 * Client authentication at the proxy's token and revocation endpoints, in front of the MCP SDK's
 * handlers: the SDK compares secrets with `!==` and answers invalid_client with 400, and it cannot
 * check a secret the store keeps only as a hash. Confidential clients use client_secret_basic or
 * client_secret_post (either one), public clients `none`; every failure is the same 401.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
import type { RequestHandler, Response } from 'express';
import type { OAuthRepository } from './repository';
import { safeEqual, sha256Hex } from './tokens';

/** The credentials a request presented, and how. */
export interface PresentedClient {
  clientId: string;
  secret?: string;
  /** `client_secret_basic` when they came in the Authorization header. */
  method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

/** Why a request's client credentials are unusable before any lookup. */
export type ClientCredentialsProblem =
  /** Nothing identifies the client. */
  | 'missing'
  /** A malformed `Authorization: Basic` header. */
  | 'malformed'
  /** Two methods at once, or a body client_id that differs from the header's (RFC 6749 §2.3). */
  | 'conflicting';

/** `application/x-www-form-urlencoded` decoding of one Basic credential half (RFC 6749 §2.3.1). */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Reads the client credentials of a token or revocation request: the Authorization header's
 * Basic credentials, or `client_id` (and `client_secret`) in the form body.
 */
export function presentedClient(
  authorization: string | undefined,
  body: Record<string, unknown>,
): PresentedClient | ClientCredentialsProblem {
  const bodyId = typeof body.client_id === 'string' ? body.client_id : undefined;
  const bodySecret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
  if (authorization !== undefined) {
    const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(authorization);
    if (match?.[1] === undefined) return 'malformed';
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'malformed';
    const clientId = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    if (clientId === undefined || clientId === '' || secret === undefined) return 'malformed';
    if (bodySecret !== undefined || (bodyId !== undefined && bodyId !== clientId)) {
      return 'conflicting';
    }
    return { clientId, secret, method: 'client_secret_basic' };
  }
  if (bodyId === undefined || bodyId === '') return 'missing';
  if (bodySecret === undefined) return { clientId: bodyId, method: 'none' };
  return { clientId: bodyId, secret: bodySecret, method: 'client_secret_post' };
}

/**
 * Express middleware for `/oauth/<ws>/token` and `/revoke` (after a form body parser): lets the
 * request through only when its client is registered at this workspace and authenticates as
 * registered; the body then carries `client_id` (and no secret) for the SDK handler behind it.
 */
export function clientAuthentication(options: {
  repo: OAuthRepository;
  workspaceId: string;
  /** The Basic challenge's realm: the workspace's issuer. */
  realm: string;
}): RequestHandler {
  const { repo, workspaceId } = options;
  const realm = options.realm.replace(/["\\]/g, '');
  const refuse = (res: Response, usedHeader: boolean) =>
    sendError(
      res,
      401,
      'invalid_client',
      'client authentication failed',
      usedHeader ? realm : undefined,
    );
  return function authenticateClient(req, res, next) {
    if (req.method !== 'POST') {
      next();
      return;
    }
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<
      string,
      unknown
    >;
    const usedHeader = req.headers.authorization !== undefined;
    const presented = presentedClient(req.headers.authorization, body);
    if (presented === 'conflicting') {
      sendError(
        res,
        400,
        'invalid_request',
        'use exactly one client authentication method',
        undefined,
      );
      return;
    }
    if (typeof presented === 'string') {
      // invalid_client without saying why (RFC 6749 §5.2).
      refuse(res, usedHeader);
      return;
    }
    const record = repo.getClient(presented.clientId);
    if (record === undefined || record.workspaceId !== workspaceId) {
      refuse(res, usedHeader);
      return;
    }
    const isPublic = record.metadata.token_endpoint_auth_method === 'none';
    const authenticated = isPublic
      ? presented.method === 'none'
      : presented.secret !== undefined &&
        record.clientSecretHash !== undefined &&
        safeEqual(record.clientSecretHash, sha256Hex(presented.secret));
    if (!authenticated) {
      refuse(res, usedHeader);
      return;
    }
    const { client_secret: _secret, ...rest } = body;
    req.body = { ...rest, client_id: presented.clientId };
    next();
  };
}

function sendError(
  res: Response,
  status: number,
  error: string,
  description: string,
  /** Set when the client used the Authorization header: RFC 6749 §5.2 wants a Basic challenge. */
  basicRealm: string | undefined,
): void {
  if (basicRealm !== undefined) res.setHeader('WWW-Authenticate', `Basic realm="${basicRealm}"`);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.status(status).json({ error, error_description: description });
}
