/**
 * The control API under /__control (loopback only, bearer control token): read counters and
 * events, reset, change token TTLs, revoke a client's tokens, arm and clear faults.
 */
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { secretEquals } from './api';
import { FaultSpecError, type FaultTable, parseFaultSpec } from './faults';
import type { TtlState } from './provider';
import type { Recorder } from './recorder';

export interface ControlState {
  mode: string;
  issuer: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  authorizationCodeTtl: number;
  tokenFormat: string;
  autoApprove: boolean;
}

export interface ControlOptions {
  controlToken: string;
  recorder: Recorder;
  faults: FaultTable;
  ttl: TtlState;
  initialTtl: Readonly<TtlState>;
  state: () => ControlState;
  /** Revokes every token and grant of the client; returns how many went. */
  revokeClient: (clientId: string) => number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function fail(res: Response, status: number, error: string, description: string) {
  res.status(status).json({ error, error_description: description });
}

/** The /__control router. */
export function controlRouter(options: ControlOptions): Router {
  const { recorder, faults, ttl } = options;
  const router = Router();

  router.use((req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      return fail(res, 403, 'forbidden', 'the control API answers loopback clients only');
    }
    const match = /^Bearer +(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1] || !secretEquals(match[1], options.controlToken)) {
      res.set('WWW-Authenticate', 'Bearer realm="control"');
      return fail(res, 401, 'unauthorized', 'send Authorization: Bearer <control token>');
    }
    next();
  });
  router.use(express.json({ limit: '16kb' }));

  router.get('/state', (_req, res) => {
    res.json(options.state());
  });

  router.get('/counters', (_req, res) => {
    res.json(recorder.counters());
  });

  router.get('/events', (req, res) => {
    const since = typeof req.query.since === 'string' ? Number(req.query.since) : 0;
    if (!Number.isInteger(since) || since < 0) {
      return fail(res, 400, 'invalid_request', '"since" must be a non-negative integer');
    }
    res.json({ events: recorder.events(since) });
  });

  router.post('/reset', (_req, res) => {
    recorder.reset();
    faults.clear();
    Object.assign(ttl, options.initialTtl);
    res.json(options.state());
  });

  router.put('/ttl', (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return fail(res, 400, 'invalid_request', 'body must be a JSON object');
    }
    const input = body as Record<string, unknown>;
    const next: Partial<TtlState> = {};
    for (const key of Object.keys(input)) {
      if (key !== 'accessToken' && key !== 'refreshToken' && key !== 'authorizationCode') {
        return fail(res, 400, 'invalid_request', `unknown field "${key}"`);
      }
      const value = input[key];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        return fail(
          res,
          400,
          'invalid_request',
          `"${key}" must be an integer number of seconds >= 1`,
        );
      }
      next[key] = value;
    }
    Object.assign(ttl, next);
    res.json(options.state());
  });

  router.post('/revoke', (req, res) => {
    const clientId = (req.body as Record<string, unknown> | undefined)?.client_id;
    if (typeof clientId !== 'string' || clientId === '') {
      return fail(res, 400, 'invalid_request', '"client_id" is required');
    }
    res.json({ revoked: options.revokeClient(clientId) });
  });

  router.post('/faults', (req, res) => {
    try {
      const fault = faults.add(parseFaultSpec(req.body));
      res.status(201).json(fault);
    } catch (err) {
      if (err instanceof FaultSpecError) return fail(res, 400, 'invalid_request', err.message);
      throw err;
    }
  });

  router.get('/faults', (_req, res) => {
    res.json({ faults: faults.list() });
  });

  router.delete('/faults', (_req, res) => {
    faults.clear();
    res.status(204).end();
  });

  router.delete('/faults/:id', (req, res) => {
    if (!faults.remove(String(req.params.id))) {
      return fail(res, 404, 'not_found', `no fault with id "${req.params.id}"`);
    }
    res.status(204).end();
  });

  router.use((_req: Request, res: Response) => {
    fail(res, 404, 'not_found', 'no such control route');
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status =
      typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
        ? err.status
        : 500;
    if (status < 500) return fail(res, status, 'invalid_request', 'the body is not valid JSON');
    console.error(err);
    fail(res, 500, 'server_error', 'unexpected server error');
  });

  return router;
}
