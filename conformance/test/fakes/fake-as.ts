/**
 * A small OAuth 2.1 authorization server with a demo API and a control API shaped like our test
 * server's (/__control counters, events, ttl), for the harness's self-tests. Correct by default,
 * with one deliberate flaw switched on per instance so a test can prove that the check named for
 * that flaw (and not only some unrelated one) catches it. Plain node:http, in memory, loopback.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AsFlaw =
  | 'none'
  | 'ignores-verifier'
  | 'accepts-plain'
  | 'reuses-codes'
  | 'ignores-state'
  | 'no-rotation';

export interface FakeAsOptions {
  flaw?: AsFlaw;
  clientId?: string;
  clientSecret?: string;
  /** Registered redirect URIs; the first is `redirectUri`. */
  redirectUris?: string[];
  controlToken?: string;
}

export interface FakeAs {
  issuer: string;
  /** Same as issuer: the API is under /api, the control API under /__control. */
  url: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  controlToken: string;
  close(): Promise<void>;
}

interface CodeGrant {
  challenge: string;
  method: string;
  redirectUri: string;
  used: boolean;
  expiresAt: number;
}

interface FakeEvent {
  seq: number;
  at: string;
  kind: string;
  method: string;
  path: string;
  status: number;
  client_id?: string;
  grant_type?: string;
  error?: string;
  token_sha256?: string;
  refresh_token_sha256?: string;
  refresh_token_reused?: boolean;
}

const CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Starts the fake AS on a free loopback port. */
export async function startFakeAs(options: FakeAsOptions = {}): Promise<FakeAs> {
  const flaw = options.flaw ?? 'none';
  const clientId = options.clientId ?? 'fake-client';
  const clientSecret = options.clientSecret ?? `secret-${randomBytes(8).toString('hex')}`;
  const redirectUris = options.redirectUris ?? ['http://127.0.0.1:9/cb'];
  const controlToken = options.controlToken ?? randomBytes(12).toString('hex');
  const start = { accessToken: 3600, refreshToken: 86400, authorizationCode: 60 };
  let ttl = { ...start };
  const codes = new Map<string, CodeGrant>();
  const accessTokens = new Map<string, number>();
  /** refresh token → family id; `liveRefresh` holds the one current token per family. */
  const refreshFamilies = new Map<string, string>();
  const liveRefresh = new Map<string, string>();
  const csrf = new Map<string, URLSearchParams>();
  let events: FakeEvent[] = [];
  let seq = 0;
  let counters = {
    endpoints: {} as Record<string, number>,
    grants: {} as Record<string, { requests: number; ok: number; errors: number }>,
    errors: {} as Record<string, number>,
  };
  let issuer = '';
  /** Armed faults on /token (the subset of the test server's fault API the self-tests use). */
  let faults: Array<{ grant_type?: string; error: string; remaining: number }> = [];

  const record = (event: Omit<FakeEvent, 'seq' | 'at'>) => {
    seq += 1;
    events.push({ seq, at: new Date().toISOString(), ...event });
    if (event.error) counters.errors[event.error] = (counters.errors[event.error] ?? 0) + 1;
  };
  const count = (endpoint: string) => {
    counters.endpoints[endpoint] = (counters.endpoints[endpoint] ?? 0) + 1;
  };

  const tokens = (family?: string) => {
    const refresh = randomBytes(24).toString('base64url');
    const id = family ?? randomBytes(8).toString('hex');
    refreshFamilies.set(refresh, id);
    liveRefresh.set(id, refresh);
    const access = randomBytes(24).toString('base64url');
    accessTokens.set(access, Date.now() + ttl.accessToken * 1000);
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: ttl.accessToken,
      refresh_token: refresh,
    };
  };

  const redirectWith = (
    res: ServerResponse,
    redirectUri: string,
    params: Record<string, string>,
  ) => {
    const url = new URL(redirectUri);
    for (const [k, v] of Object.entries({ ...params, iss: issuer })) url.searchParams.set(k, v);
    res.writeHead(302, { location: url.href });
    res.end();
  };

  const authorize = (res: ServerResponse, query: URLSearchParams) => {
    const redirectUri = query.get('redirect_uri') ?? '';
    const state = query.get('state') ?? '';
    const withState = (p: Record<string, string>) =>
      state && flaw !== 'ignores-state' ? { ...p, state } : p;
    const challenge = query.get('code_challenge') ?? '';
    const method = query.get('code_challenge_method') ?? 'plain';
    const methodOk = method === 'S256' || (flaw === 'accepts-plain' && method === 'plain');
    if (!methodOk || !CHALLENGE.test(challenge) || (method === 'S256' && challenge.length !== 43)) {
      redirectWith(
        res,
        redirectUri,
        withState({ error: 'invalid_request', error_description: 'bad code_challenge' }),
      );
      return;
    }
    const code = randomBytes(16).toString('base64url');
    codes.set(code, {
      challenge,
      method,
      redirectUri,
      used: false,
      expiresAt: Date.now() + ttl.authorizationCode * 1000,
    });
    record({
      kind: 'authorize',
      method: 'GET',
      path: '/authorize',
      status: 302,
      client_id: clientId,
    });
    redirectWith(res, redirectUri, withState({ code }));
  };

  const consentPage = (res: ServerResponse, query: URLSearchParams) => {
    count('authorize');
    if (
      query.get('client_id') !== clientId ||
      !redirectUris.includes(query.get('redirect_uri') ?? '')
    ) {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end('<h1>invalid client or redirect_uri</h1>');
      return;
    }
    const token = randomBytes(12).toString('base64url');
    csrf.set(token, query);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<!doctype html><form method="post" action="/authorize/decision"><input type="hidden" name="csrf" value="${token}"><button name="decision" value="deny">Deny</button><button name="decision" value="approve">Approve</button></form>`,
    );
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    count('token');
    const form = new URLSearchParams(await readBody(req));
    const grantType = form.get('grant_type') ?? '';
    const grant = counters.grants[grantType] ?? { requests: 0, ok: 0, errors: 0 };
    counters.grants[grantType] = grant;
    grant.requests += 1;
    const presentedRefresh = form.get('refresh_token') ?? undefined;
    const answer = (
      status: number,
      body: Record<string, unknown>,
      extra: Partial<FakeEvent> = {},
      headers: Record<string, string> = {},
    ) => {
      if (status === 200) grant.ok += 1;
      else grant.errors += 1;
      record({
        kind: 'token',
        method: 'POST',
        path: '/token',
        status,
        client_id: clientId,
        grant_type: grantType,
        ...(typeof body.error === 'string' ? { error: body.error } : {}),
        ...(presentedRefresh ? { refresh_token_sha256: sha256(presentedRefresh) } : {}),
        ...extra,
      });
      json(res, status, body, headers);
    };
    const fault = faults.find((f) => f.grant_type === undefined || f.grant_type === grantType);
    if (fault) {
      if (fault.remaining > 0) {
        fault.remaining -= 1;
        if (fault.remaining === 0) faults = faults.filter((f) => f !== fault);
      }
      answer(400, { error: fault.error });
      return;
    }
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id = '', secret = ''] = basic
      ? Buffer.from(basic, 'base64')
          .toString()
          .split(':')
          .map((s) => decodeURIComponent(s.replace(/\+/g, ' ')))
      : [form.get('client_id') ?? '', form.get('client_secret') ?? ''];
    if (id !== clientId || !same(secret, clientSecret)) {
      answer(401, { error: 'invalid_client' }, {}, { 'www-authenticate': 'Basic realm="fake"' });
      return;
    }
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      if (
        !code ||
        code.used ||
        code.expiresAt < Date.now() ||
        form.get('redirect_uri') !== code.redirectUri
      ) {
        answer(400, { error: 'invalid_grant' });
        return;
      }
      if (flaw !== 'reuses-codes') code.used = true;
      const verifier = form.get('code_verifier');
      if (flaw !== 'ignores-verifier') {
        if (verifier === null || !CHALLENGE.test(verifier)) {
          answer(400, { error: 'invalid_grant', error_description: 'code_verifier required' });
          return;
        }
        const expected =
          code.method === 'S256'
            ? createHash('sha256').update(verifier).digest('base64url')
            : verifier;
        if (!same(expected, code.challenge)) {
          answer(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
          return;
        }
      }
      answer(200, tokens());
      return;
    }
    if (grantType === 'refresh_token') {
      const presented = presentedRefresh ?? '';
      const family = refreshFamilies.get(presented);
      if (!family || liveRefresh.get(family) !== presented) {
        if (family) liveRefresh.delete(family);
        answer(400, { error: 'invalid_grant' }, family ? { refresh_token_reused: true } : {});
        return;
      }
      if (flaw === 'no-rotation') {
        const { refresh_token: _unused, ...rest } = tokens(family);
        liveRefresh.set(family, presented);
        answer(200, rest);
        return;
      }
      answer(200, tokens(family));
      return;
    }
    answer(400, { error: 'unsupported_grant_type' });
  };

  const control = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.headers.authorization !== `Bearer ${controlToken}`)
      return json(res, 401, { error: 'unauthorized' });
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /__control/counters') return json(res, 200, counters);
    if (route === 'GET /__control/events') {
      const since = Number(url.searchParams.get('since') ?? 0);
      return json(res, 200, { events: events.filter((e) => e.seq > since) });
    }
    if (route === 'GET /__control/state')
      return json(res, 200, {
        mode: 'oauth',
        issuer,
        accessTokenTtl: ttl.accessToken,
        refreshTokenTtl: ttl.refreshToken,
        authorizationCodeTtl: ttl.authorizationCode,
      });
    if (route === 'PUT /__control/ttl') {
      const body = JSON.parse((await readBody(req)) || '{}') as Partial<typeof ttl>;
      ttl = { ...ttl, ...body };
      return json(res, 200, {
        accessTokenTtl: ttl.accessToken,
        refreshTokenTtl: ttl.refreshToken,
        authorizationCodeTtl: ttl.authorizationCode,
      });
    }
    if (route === 'POST /__control/faults') {
      const body = JSON.parse((await readBody(req)) || '{}') as {
        grant_type?: string;
        error?: string;
        times?: number;
      };
      const times = body.times ?? 1;
      faults.push({
        ...(body.grant_type ? { grant_type: body.grant_type } : {}),
        error: body.error ?? 'invalid_grant',
        remaining: times === 0 ? -1 : times,
      });
      return json(res, 201, { id: String(faults.length), ...body });
    }
    if (route === 'DELETE /__control/faults') {
      faults = [];
      return json(res, 200, {});
    }
    if (route === 'POST /__control/reset') {
      ttl = { ...start };
      events = [];
      counters = { endpoints: {}, grants: {}, errors: {} };
      return json(res, 200, {});
    }
    json(res, 404, { error: 'not_found' });
  };

  const api = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    count('api:listItems');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const expiresAt = bearer ? accessTokens.get(bearer) : undefined;
    const status = expiresAt !== undefined && expiresAt > Date.now() ? 200 : 401;
    record({
      kind: 'api',
      method: req.method ?? 'GET',
      path: url.pathname,
      status,
      ...(bearer ? { token_sha256: sha256(bearer) } : {}),
    });
    if (status === 401)
      return json(
        res,
        401,
        { error: 'invalid_token' },
        { 'www-authenticate': 'Bearer error="invalid_token"' },
      );
    json(res, 200, [{ id: '1', name: 'first item' }]);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = `${req.method} ${url.pathname}`;
    const fail = () => json(res, 500, { error: 'server_error' });
    if (route === 'GET /.well-known/oauth-authorization-server') {
      count('metadata');
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: flaw === 'accepts-plain' ? ['S256', 'plain'] : ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        scopes_supported: ['items:read'],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (route === 'GET /authorize') return consentPage(res, url.searchParams);
    if (route === 'POST /authorize/decision') {
      void readBody(req).then((text) => {
        const form = new URLSearchParams(text);
        const query = csrf.get(form.get('csrf') ?? '');
        csrf.delete(form.get('csrf') ?? '');
        if (!query) return json(res, 403, { error: 'bad csrf' });
        if (form.get('decision') !== 'approve')
          return redirectWith(res, query.get('redirect_uri') ?? '', { error: 'access_denied' });
        authorize(res, query);
      }, fail);
      return;
    }
    if (route === 'POST /token') return void token(req, res).catch(fail);
    if (url.pathname.startsWith('/__control/')) return void control(req, res, url).catch(fail);
    if (route === 'GET /api/items') return api(req, res, url);
    json(res, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    url: issuer,
    clientId,
    clientSecret,
    redirectUri: redirectUris[0] ?? '',
    controlToken,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
