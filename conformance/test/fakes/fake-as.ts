/**
 * A small OAuth 2.1 authorization server for the harness's self-tests: correct by default, with one
 * deliberate flaw switched on per instance so a test can prove that the check named for that flaw
 * (and not only some unrelated one) catches it. Plain node:http, in-memory, loopback only.
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
  redirectUri?: string;
}

export interface FakeAs {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  close(): Promise<void>;
}

interface CodeGrant {
  challenge: string;
  method: string;
  redirectUri: string;
  used: boolean;
}

const CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

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

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
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
  const redirectUri = options.redirectUri ?? 'http://127.0.0.1:9/cb';
  const codes = new Map<string, CodeGrant>();
  /** refresh token → family id; `live` holds the one current token per family. */
  const refreshFamilies = new Map<string, string>();
  const liveRefresh = new Map<string, string>();
  const csrf = new Map<string, URLSearchParams>();
  let issuer = '';

  const tokens = (family?: string) => {
    const refresh = randomBytes(24).toString('base64url');
    const id = family ?? randomBytes(8).toString('hex');
    refreshFamilies.set(refresh, id);
    liveRefresh.set(id, refresh);
    return {
      access_token: randomBytes(24).toString('base64url'),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: refresh,
    };
  };

  const redirectWith = (res: ServerResponse, params: Record<string, string>) => {
    const url = new URL(redirectUri);
    for (const [k, v] of Object.entries({ ...params, iss: issuer })) url.searchParams.set(k, v);
    res.writeHead(302, { location: url.href });
    res.end();
  };

  const authorize = (res: ServerResponse, query: URLSearchParams) => {
    if (query.get('client_id') !== clientId || query.get('redirect_uri') !== redirectUri) {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end('<h1>invalid client or redirect_uri</h1>');
      return;
    }
    const state = query.get('state') ?? '';
    const withState = (p: Record<string, string>) =>
      state && flaw !== 'ignores-state' ? { ...p, state } : p;
    const challenge = query.get('code_challenge') ?? '';
    const method = query.get('code_challenge_method') ?? 'plain';
    const methodOk = method === 'S256' || (flaw === 'accepts-plain' && method === 'plain');
    if (!methodOk || !CHALLENGE.test(challenge) || (method === 'S256' && challenge.length !== 43)) {
      redirectWith(
        res,
        withState({ error: 'invalid_request', error_description: 'bad code_challenge' }),
      );
      return;
    }
    const code = randomBytes(16).toString('base64url');
    codes.set(code, { challenge, method, redirectUri, used: false });
    redirectWith(res, withState({ code }));
  };

  const consentPage = (res: ServerResponse, query: URLSearchParams) => {
    const token = randomBytes(12).toString('base64url');
    csrf.set(token, query);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<!doctype html><form method="post" action="/authorize/decision"><input type="hidden" name="csrf" value="${token}"><button name="decision" value="deny">Deny</button><button name="decision" value="approve">Approve</button></form>`,
    );
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    const form = await readForm(req);
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id = '', secret = ''] = basic
      ? Buffer.from(basic, 'base64')
          .toString()
          .split(':')
          .map((s) => decodeURIComponent(s.replace(/\+/g, ' ')))
      : [form.get('client_id') ?? '', form.get('client_secret') ?? ''];
    if (id !== clientId || !same(secret, clientSecret)) {
      json(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="fake"' });
      return;
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? '';
      const grant = codes.get(code);
      if (!grant || grant.used || form.get('redirect_uri') !== grant.redirectUri) {
        json(res, 400, { error: 'invalid_grant' });
        return;
      }
      if (flaw !== 'reuses-codes') grant.used = true;
      const verifier = form.get('code_verifier');
      if (flaw !== 'ignores-verifier') {
        if (verifier === null || !CHALLENGE.test(verifier)) {
          json(res, 400, { error: 'invalid_grant', error_description: 'code_verifier required' });
          return;
        }
        const expected =
          grant.method === 'S256'
            ? createHash('sha256').update(verifier).digest('base64url')
            : verifier;
        if (!same(expected, grant.challenge)) {
          json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
          return;
        }
      }
      json(res, 200, tokens());
      return;
    }
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const family = refreshFamilies.get(presented);
      if (!family || liveRefresh.get(family) !== presented) {
        if (family) liveRefresh.delete(family);
        json(res, 400, { error: 'invalid_grant' });
        return;
      }
      if (flaw === 'no-rotation') {
        json(res, 200, {
          access_token: randomBytes(24).toString('base64url'),
          token_type: 'Bearer',
          expires_in: 3600,
        });
        return;
      }
      json(res, 200, tokens(family));
      return;
    }
    json(res, 400, { error: 'unsupported_grant_type' });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /.well-known/oauth-authorization-server') {
      json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: flaw === 'accepts-plain' ? ['S256', 'plain'] : ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        authorization_response_iss_parameter_supported: true,
      });
      return;
    }
    if (route === 'GET /authorize') return consentPage(res, url.searchParams);
    if (route === 'POST /authorize/decision') {
      void readForm(req).then((form) => {
        const query = csrf.get(form.get('csrf') ?? '');
        csrf.delete(form.get('csrf') ?? '');
        if (!query) {
          res.writeHead(403);
          res.end('bad csrf');
          return;
        }
        if (form.get('decision') !== 'approve')
          return redirectWith(res, { error: 'access_denied' });
        authorize(res, query);
      });
      return;
    }
    if (route === 'POST /token') {
      void token(req, res).catch(() => json(res, 500, { error: 'server_error' }));
      return;
    }
    json(res, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    clientId,
    clientSecret,
    redirectUri,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
