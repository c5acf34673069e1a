/**
 * The demo API of the seed's step 4 (items and users), guarded per mode: OAuth access tokens
 * with per-operation scopes, one static bearer token, an API key, a pair of custom headers, or
 * nothing. Errors follow RFC 6750 for bearer tokens and name the offending field otherwise.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import {
  API_KEY_HEADER,
  type ApiScope,
  type Mode,
  SECRET_HEADER,
  TENANT_HEADER,
  TENANT_VALUE,
} from './options';
import { InvalidTokenError, sha256Hex, type VerifiedToken } from './tokens';

export interface Item {
  id: string;
  name: string;
  description?: string;
  tags?: string[];
  createdAt: string;
}

export interface User {
  id: string;
  username: string;
  name: string;
  email: string;
}

export type OperationId = 'listItems' | 'createItem' | 'getItem' | 'deleteItem' | 'listUsers';

/** The scope each operation needs in the OAuth modes. */
export const OPERATION_SCOPES: Record<OperationId, ApiScope> = {
  listItems: 'items:read',
  createItem: 'items:write',
  getItem: 'items:read',
  deleteItem: 'items:write',
  listUsers: 'users:read',
};

/** The operation a request under /api is for, if any (`path` without the /api prefix). */
export function operationFor(method: string, path: string): OperationId | undefined {
  const m = method.toUpperCase();
  if (path === '/items' || path === '/items/') {
    if (m === 'GET') return 'listItems';
    if (m === 'POST') return 'createItem';
  }
  if (/^\/items\/[^/]+$/.test(path)) {
    if (m === 'GET') return 'getItem';
    if (m === 'DELETE') return 'deleteItem';
  }
  if ((path === '/users' || path === '/users/') && m === 'GET') return 'listUsers';
  return undefined;
}

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'test-server');

/** The seeded items and users, fresh copies for each server. */
export function loadFixtures(): { items: Item[]; users: User[] } {
  return {
    items: JSON.parse(readFileSync(join(FIXTURES, 'items.json'), 'utf8')) as Item[],
    users: JSON.parse(readFileSync(join(FIXTURES, 'users.json'), 'utf8')) as User[],
  };
}

export interface ApiOptions {
  mode: Mode;
  apiUrl: string;
  /** URL of the RFC 9728 metadata, advertised in WWW-Authenticate. */
  resourceMetadataUrl: string;
  apiSecret: string;
  /** OAuth modes: verifies an access token or throws InvalidTokenError. */
  verifyToken?: (token: string) => Promise<VerifiedToken>;
  /** Called once per request with the operation and the presented token's hash. */
  onRequest?: (event: ApiRequestEvent) => void;
}

export interface ApiRequestEvent {
  operationId: OperationId;
  method: string;
  path: string;
  status: number;
  error?: string;
  tokenSha256?: string;
  clientId?: string;
}

interface ApiLocals {
  operationId?: OperationId;
  tokenSha256?: string;
  clientId?: string;
  error?: string;
}

function locals(res: Response): ApiLocals {
  return res.locals as ApiLocals;
}

/** Constant-time string comparison for secrets. */
export function secretEquals(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`;
}

/** Sends a JSON error, remembering its code for the event log. */
function sendError(res: Response, status: number, error: string, description: string, extra = {}) {
  locals(res).error = error;
  res.status(status).json({ error, error_description: description, ...extra });
}

function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  return match?.[1] ?? '';
}

/**
 * The guard of one operation in the current mode.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3 (WWW-Authenticate and error codes)
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1 (resource_metadata in the challenge)
 */
function guard(options: ApiOptions, operationId: OperationId) {
  const scope = OPERATION_SCOPES[operationId];
  const challenge = (params: Record<string, string>) =>
    `Bearer ${Object.entries({
      realm: options.apiUrl,
      ...params,
      resource_metadata: options.resourceMetadataUrl,
    })
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(', ')}`;

  return async function apiGuard(req: Request, res: Response, next: NextFunction) {
    locals(res).operationId = operationId;
    switch (options.mode) {
      case 'none':
        return next();
      case 'bearer': {
        const token = bearerToken(req);
        if (token) locals(res).tokenSha256 = sha256Hex(token);
        if (!token) {
          res.set('WWW-Authenticate', `Bearer realm=${quote(options.apiUrl)}`);
          return sendError(res, 401, 'invalid_token', 'an Authorization: Bearer token is required');
        }
        if (!secretEquals(token, options.apiSecret)) {
          res.set(
            'WWW-Authenticate',
            `Bearer realm=${quote(options.apiUrl)}, error="invalid_token"`,
          );
          return sendError(res, 401, 'invalid_token', 'the bearer token is not valid');
        }
        return next();
      }
      case 'apikey': {
        const key = req.get(API_KEY_HEADER);
        if (!key || !secretEquals(key, options.apiSecret)) {
          return sendError(
            res,
            401,
            'unauthorized',
            `a valid ${API_KEY_HEADER} header is required`,
          );
        }
        return next();
      }
      case 'headers': {
        const tenant = req.get(TENANT_HEADER);
        const secret = req.get(SECRET_HEADER);
        if (
          !tenant ||
          !secret ||
          tenant !== TENANT_VALUE ||
          !secretEquals(secret, options.apiSecret)
        ) {
          return sendError(
            res,
            401,
            'unauthorized',
            `valid ${TENANT_HEADER} and ${SECRET_HEADER} headers are required`,
          );
        }
        return next();
      }
      case 'oauth':
      case 'dcr': {
        const token = bearerToken(req);
        if (token === undefined) {
          res.set('WWW-Authenticate', challenge({ scope }));
          return sendError(res, 401, 'invalid_token', 'an access token is required');
        }
        locals(res).tokenSha256 = sha256Hex(token);
        let verified: VerifiedToken;
        try {
          if (!options.verifyToken) throw new InvalidTokenError('no token verifier');
          verified = await options.verifyToken(token);
        } catch (err) {
          if (!(err instanceof InvalidTokenError)) return next(err);
          res.set(
            'WWW-Authenticate',
            challenge({ error: 'invalid_token', error_description: err.message }),
          );
          return sendError(res, 401, 'invalid_token', err.message);
        }
        locals(res).clientId = verified.clientId;
        if (!verified.scopes.has(scope)) {
          res.set(
            'WWW-Authenticate',
            challenge({
              error: 'insufficient_scope',
              error_description: `this operation requires the scope ${scope}`,
              scope,
            }),
          );
          return sendError(
            res,
            403,
            'insufficient_scope',
            `this operation requires the scope ${scope}`,
            { scope },
          );
        }
        return next();
      }
    }
  };
}

/** Narrows a createItem body, naming the first wrong field. */
export function parseNewItem(body: unknown):
  | { ok: true; value: Omit<Item, 'id' | 'createdAt'> }
  | {
      ok: false;
      field: string;
      message: string;
    } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, field: 'body', message: 'the body must be a JSON object' };
  }
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!['name', 'description', 'tags'].includes(key)) {
      return { ok: false, field: key, message: `unknown field "${key}"` };
    }
  }
  if (typeof input.name !== 'string' || input.name.trim() === '') {
    return {
      ok: false,
      field: 'name',
      message: '"name" is required and must be a non-empty string',
    };
  }
  if (input.name.length > 200) {
    return { ok: false, field: 'name', message: '"name" must be at most 200 characters' };
  }
  if (input.description !== undefined && typeof input.description !== 'string') {
    return { ok: false, field: 'description', message: '"description" must be a string' };
  }
  if (
    input.tags !== undefined &&
    (!Array.isArray(input.tags) || !input.tags.every((t) => typeof t === 'string'))
  ) {
    return { ok: false, field: 'tags', message: '"tags" must be an array of strings' };
  }
  const value: Omit<Item, 'id' | 'createdAt'> = { name: input.name };
  if (input.description !== undefined) value.description = input.description;
  if (input.tags !== undefined) value.tags = input.tags as string[];
  return { ok: true, value };
}

/** The /api router. */
export function apiRouter(options: ApiOptions): Router {
  const { items: seededItems, users } = loadFixtures();
  const items = new Map(seededItems.map((i) => [i.id, i]));
  const router = Router();

  router.use((req, res, next) => {
    res.on('finish', () => {
      const l = locals(res);
      if (!l.operationId) return;
      const event: ApiRequestEvent = {
        operationId: l.operationId,
        method: req.method,
        path: req.originalUrl.split('?')[0] ?? req.originalUrl,
        status: res.statusCode,
      };
      if (l.error) event.error = l.error;
      if (l.tokenSha256) event.tokenSha256 = l.tokenSha256;
      if (l.clientId) event.clientId = l.clientId;
      options.onRequest?.(event);
    });
    next();
  });

  router.get('/items', guard(options, 'listItems'), (req, res) => {
    let list = [...items.values()];
    const { tag, limit } = req.query;
    if (tag !== undefined) {
      if (typeof tag !== 'string')
        return sendError(res, 400, 'invalid_request', '"tag" must be a string', { field: 'tag' });
      list = list.filter((i) => i.tags?.includes(tag));
    }
    if (limit !== undefined) {
      const n = typeof limit === 'string' && /^\d+$/.test(limit) ? Number(limit) : Number.NaN;
      if (!Number.isInteger(n) || n < 1 || n > 100) {
        return sendError(res, 400, 'invalid_request', '"limit" must be an integer from 1 to 100', {
          field: 'limit',
        });
      }
      list = list.slice(0, n);
    }
    res.json({ items: list });
  });

  router.post(
    '/items',
    guard(options, 'createItem'),
    express.json({ limit: '64kb' }),
    (req, res) => {
      const parsed = parseNewItem(req.body);
      if (!parsed.ok) {
        return sendError(res, 400, 'invalid_request', parsed.message, { field: parsed.field });
      }
      const item: Item = {
        id: `item-${randomUUID()}`,
        ...parsed.value,
        createdAt: new Date().toISOString(),
      };
      items.set(item.id, item);
      res
        .status(201)
        .location(`${options.apiUrl}/items/${encodeURIComponent(item.id)}`)
        .json(item);
    },
  );

  router.get('/items/:id', guard(options, 'getItem'), (req, res) => {
    const item = items.get(String(req.params.id));
    if (!item) return sendError(res, 404, 'not_found', `no item with id "${req.params.id}"`);
    res.json(item);
  });

  router.delete('/items/:id', guard(options, 'deleteItem'), (req, res) => {
    const id = String(req.params.id);
    if (!items.delete(id)) return sendError(res, 404, 'not_found', `no item with id "${id}"`);
    res.json({ id, deleted: true });
  });

  router.get('/users', guard(options, 'listUsers'), (_req, res) => {
    res.json({ users });
  });

  router.use((_req: Request, res: Response) => {
    sendError(res, 404, 'not_found', 'no such API route; see /openapi.json');
  });

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status =
      typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
        ? err.status
        : 500;
    if (status >= 400 && status < 500) {
      return sendError(res, status, 'invalid_request', 'the body is not valid JSON', {
        field: 'body',
      });
    }
    console.error(err);
    sendError(res, 500, 'server_error', 'unexpected server error');
  });

  return router;
}
