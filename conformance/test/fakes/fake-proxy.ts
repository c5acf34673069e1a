/**
 * A small MCP OAuth proxy for the harness's self-tests: per-workspace MCP endpoints behind its own
 * OAuth 2.1 AS (RFC 9728 PRM, RFC 8414, RFC 7591, PKCE S256, consent with CSRF, browser-bound
 * upstream state), an upstream OAuth client with refresh, and one tool (`listItems`). Correct by
 * default; one deliberate flaw per instance proves the check named for it catches it.
 * Plain node:http, in memory, loopback only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyFlaw =
  | 'none'
  | 'no-single-flight'
  | 'forwards-client-token'
  | 'ignores-audience'
  | 'skips-consent';

/** The upstream AS+API the fake proxy uses (our test server or the fake AS). */
export interface FakeUpstream {
  url: string;
  clientId: string;
  clientSecret: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scope?: string;
}

export interface FakeProxyOptions {
  flaw?: ProxyFlaw;
  /** May be given later through `configure`, once the upstream knows the proxy's callback URL. */
  upstream?: FakeUpstream;
  workspaces?: string[];
  /** Grace window for a replayed downstream refresh token, seconds (default 0). */
  refreshGrace?: number;
  /** How the proxy reaches the upstream; a test wraps it in fast-check's scheduler. */
  fetch?: typeof fetch;
  /** The clock the proxy judges upstream expiry by (default Date.now). */
  clock?: () => number;
}

export interface FakeProxy {
  url: string;
  /** MCP URL per workspace, in the order given. */
  mcpUrls: string[];
  /** The redirect URI the proxy uses upstream (register it at the upstream). */
  callbackUrl: string;
  configure(upstream: FakeUpstream): void;
  close(): Promise<void>;
}

interface UpstreamGrant {
  accessToken: string;
  refreshToken?: string;
  expiresAt: number;
  refreshing?: Promise<void>;
  dead?: boolean;
}

interface IssuedToken {
  workspace: string;
  grant: UpstreamGrant;
  expiresAt: number;
}

interface RefreshRecord {
  workspace: string;
  clientId: string;
  grant: UpstreamGrant;
  family: string;
  rotatedAt?: number;
}

const S256 = /^[A-Za-z0-9_-]{43}$/;

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

function html(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'x-frame-options': 'DENY',
    ...headers,
  });
  res.end(`<!doctype html><html><body>${body}</body></html>`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === name) return v;
  }
  return undefined;
}

const random = () => randomBytes(24).toString('base64url');
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function validRedirect(uri: unknown): boolean {
  if (typeof uri !== 'string' || !URL.canParse(uri)) return false;
  const url = new URL(uri);
  if (url.hash) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** Starts the fake proxy on a free loopback port. */
export async function startFakeProxy(options: FakeProxyOptions): Promise<FakeProxy> {
  const flaw = options.flaw ?? 'none';
  const workspaces = options.workspaces ?? ['alpha', 'beta'];
  const grace = (options.refreshGrace ?? 0) * 1000;
  const upstreamFetch = options.fetch ?? fetch;
  const now = options.clock ?? Date.now;
  let up: FakeUpstream = options.upstream ?? {
    url: '',
    clientId: '',
    clientSecret: '',
    authorizationEndpoint: '',
    tokenEndpoint: '',
  };
  let base = '';
  const clients = new Map<string, { redirectUris: string[] }>();
  const consents = new Map<
    string,
    { browser: string; query: URLSearchParams; workspace: string }
  >();
  const pending = new Map<
    string,
    {
      browser: string;
      verifier: string;
      query: URLSearchParams;
      workspace: string;
      expiresAt: number;
    }
  >();
  const codes = new Map<
    string,
    {
      clientId: string;
      redirectUri: string;
      challenge: string;
      workspace: string;
      grant: UpstreamGrant;
      used: boolean;
    }
  >();
  const accessTokens = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, RefreshRecord>();

  const mcpUrl = (ws: string) => `${base}/mcp/${ws}`;
  const workspaceOfResource = (resource: string | null) =>
    workspaces.find((ws) => mcpUrl(ws) === resource);

  const upstreamToken = async (params: Record<string, string>) => {
    const response = await upstreamFetch(up.tokenEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(up.clientId)}:${encodeURIComponent(up.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams(params).toString(),
    });
    const body = (await response.json()) as Record<string, unknown>;
    return { ok: response.ok && typeof body.access_token === 'string', body };
  };

  const adopt = (grant: UpstreamGrant, body: Record<string, unknown>) => {
    grant.accessToken = String(body.access_token);
    if (typeof body.refresh_token === 'string') grant.refreshToken = body.refresh_token;
    grant.expiresAt = now() + Number(body.expires_in ?? 3600) * 1000;
  };

  const refreshUpstream = async (grant: UpstreamGrant): Promise<void> => {
    if (!grant.refreshToken) throw new Error('no upstream refresh token');
    const result = await upstreamToken({
      grant_type: 'refresh_token',
      refresh_token: grant.refreshToken,
    });
    if (!result.ok) {
      grant.dead = true;
      throw new Error('upstream refresh failed');
    }
    adopt(grant, result.body);
  };

  /** Single-flight per grant: every caller waits on the one refresh in progress. */
  const ensureFresh = async (grant: UpstreamGrant): Promise<void> => {
    if (grant.expiresAt - 500 > now()) return;
    if (flaw === 'no-single-flight') return refreshUpstream(grant);
    grant.refreshing ??= refreshUpstream(grant).finally(() => {
      grant.refreshing = undefined;
    });
    return grant.refreshing;
  };

  const callApi = async (grant: UpstreamGrant, presented: string) => {
    const token = flaw === 'forwards-client-token' ? presented : grant.accessToken;
    return upstreamFetch(new URL('/api/items', up.url), {
      headers: { authorization: `Bearer ${token}` },
    });
  };

  const challenge = (res: ServerResponse, ws: string, error?: string) =>
    json(
      res,
      401,
      { error: error ?? 'unauthorized' },
      {
        'www-authenticate': `Bearer ${error ? `error="${error}", ` : ''}resource_metadata="${base}/.well-known/oauth-protected-resource/mcp/${ws}"`,
      },
    );

  const mcp = async (req: IncomingMessage, res: ServerResponse, ws: string) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) return challenge(res, ws);
    const issued = accessTokens.get(bearer);
    if (
      !issued ||
      issued.grant.dead === true ||
      issued.expiresAt < Date.now() ||
      (issued.workspace !== ws && flaw !== 'ignores-audience')
    ) {
      return challenge(res, ws, 'invalid_token');
    }
    const message = JSON.parse(await readBody(req)) as {
      id?: number;
      method: string;
      params?: { name?: string };
    };
    if (message.id === undefined) {
      res.writeHead(202);
      res.end();
      return;
    }
    const reply = (result: unknown) => json(res, 200, { jsonrpc: '2.0', id: message.id, result });
    if (message.method === 'initialize') {
      return reply({
        protocolVersion: '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'fake-proxy', version: '0' },
      });
    }
    if (message.method === 'tools/list')
      return reply({ tools: [{ name: 'listItems', inputSchema: { type: 'object' } }] });
    if (message.method === 'tools/call' && message.params?.name === 'listItems') {
      try {
        if (flaw !== 'forwards-client-token') await ensureFresh(issued.grant);
        let response = await callApi(issued.grant, bearer);
        if (response.status === 401 && flaw !== 'forwards-client-token') {
          await response.arrayBuffer();
          if (!issued.grant.refreshing) issued.grant.expiresAt = 0;
          await ensureFresh(issued.grant);
          response = await callApi(issued.grant, bearer);
        }
        const text = await response.text();
        return reply({ content: [{ type: 'text', text }], isError: !response.ok });
      } catch (error) {
        // invalid_grant upstream is terminal: the grant is gone, the client must re-authorize.
        if (issued.grant.dead) return challenge(res, ws, 'invalid_token');
        return reply({ content: [{ type: 'text', text: String(error) }], isError: true });
      }
    }
    return json(res, 200, {
      jsonrpc: '2.0',
      id: message.id,
      error: { code: -32601, message: 'method not found' },
    });
  };

  const issueTokens = (
    workspace: string,
    clientId: string,
    grant: UpstreamGrant,
    family = random(),
  ) => {
    if (flaw === 'forwards-client-token') {
      accessTokens.set(grant.accessToken, { workspace, grant, expiresAt: grant.expiresAt });
      const refresh = random();
      refreshTokens.set(refresh, { workspace, clientId, grant, family });
      return {
        access_token: grant.accessToken,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: refresh,
      };
    }
    const access = random();
    const refresh = random();
    accessTokens.set(access, { workspace, grant, expiresAt: Date.now() + 3600_000 });
    refreshTokens.set(refresh, { workspace, clientId, grant, family });
    return { access_token: access, token_type: 'Bearer', expires_in: 3600, refresh_token: refresh };
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams(await readBody(req));
    const clientId = form.get('client_id') ?? '';
    if (!clients.has(clientId)) return json(res, 401, { error: 'invalid_client' });
    if (form.get('grant_type') === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (
        !code ||
        code.used ||
        code.clientId !== clientId ||
        code.redirectUri !== form.get('redirect_uri')
      ) {
        return json(res, 400, { error: 'invalid_grant' });
      }
      code.used = true;
      if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge)
        return json(res, 400, { error: 'invalid_grant' });
      return json(res, 200, issueTokens(code.workspace, clientId, code.grant));
    }
    if (form.get('grant_type') === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const record = refreshTokens.get(presented);
      if (!record || record.clientId !== clientId)
        return json(res, 400, { error: 'invalid_grant' });
      if (record.rotatedAt !== undefined) {
        if (Date.now() - record.rotatedAt >= grace) {
          for (const [key, other] of refreshTokens)
            if (other.family === record.family) refreshTokens.delete(key);
          return json(res, 400, { error: 'invalid_grant' });
        }
      } else {
        record.rotatedAt = Date.now();
      }
      return json(res, 200, issueTokens(record.workspace, clientId, record.grant, record.family));
    }
    return json(res, 400, { error: 'unsupported_grant_type' });
  };

  /** After consent: a fresh state and PKCE pair, bound to the browser, and off to the upstream. */
  const redirectUpstream = (
    res: ServerResponse,
    entry: { browser: string; query: URLSearchParams; workspace: string },
    headers: Record<string, string> = {},
  ) => {
    const state = random();
    const verifier = randomBytes(32).toString('base64url');
    pending.set(state, { ...entry, verifier, expiresAt: Date.now() + 600_000 });
    const url = new URL(up.authorizationEndpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: up.clientId,
      redirect_uri: `${base}/oauth/callback`,
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      scope: up.scope ?? 'items:read',
      resource: new URL('/api', up.url).href,
    }).toString();
    res.writeHead(302, { location: url.href, ...headers });
    res.end();
  };

  const authorize = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    const client = clients.get(query.get('client_id') ?? '');
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!client?.redirectUris.includes(redirectUri))
      return html(res, 400, '<h1>unknown client or redirect_uri</h1>');
    const fail = (error: string) => {
      const url = new URL(redirectUri);
      url.searchParams.set('error', error);
      if (query.get('state')) url.searchParams.set('state', query.get('state') ?? '');
      url.searchParams.set('iss', base);
      res.writeHead(302, { location: url.href });
      res.end();
    };
    if (query.get('response_type') !== 'code') return fail('unsupported_response_type');
    if (
      query.get('code_challenge_method') !== 'S256' ||
      !S256.test(query.get('code_challenge') ?? '')
    )
      return fail('invalid_request');
    const workspace =
      workspaceOfResource(query.get('resource')) ??
      (flaw === 'ignores-audience' ? workspaces[0] : undefined);
    if (!workspace) return fail('invalid_target');
    const browser = cookie(req, 'fp_browser') ?? random();
    const browserCookie = { 'set-cookie': `fp_browser=${browser}; Path=/; HttpOnly; SameSite=Lax` };
    if (flaw === 'skips-consent')
      return redirectUpstream(res, { browser, query, workspace }, browserCookie);
    const csrf = random();
    consents.set(csrf, { browser, query, workspace });
    html(
      res,
      200,
      `<h1>Allow ${escapeHtml(query.get('client_id') ?? '')}?</h1><p>Redirect: ${escapeHtml(redirectUri)}</p><form method="post" action="/consent"><input type="hidden" name="csrf" value="${csrf}"><button name="decision" value="approve">Approve</button><button name="decision" value="deny">Deny</button></form>`,
      browserCookie,
    );
  };

  const consent = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams(await readBody(req));
    const entry = consents.get(form.get('csrf') ?? '');
    consents.delete(form.get('csrf') ?? '');
    if (!entry || entry.browser !== cookie(req, 'fp_browser'))
      return html(res, 403, '<h1>invalid CSRF token</h1>');
    if (form.get('decision') !== 'approve') {
      const denied = new URL(entry.query.get('redirect_uri') ?? '');
      denied.searchParams.set('error', 'access_denied');
      if (entry.query.get('state') !== null)
        denied.searchParams.set('state', entry.query.get('state') ?? '');
      res.writeHead(302, { location: denied.href });
      res.end();
      return;
    }
    redirectUpstream(res, entry);
  };

  const callback = async (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    const state = query.get('state') ?? '';
    const entry = pending.get(state);
    if (!entry || entry.browser !== cookie(req, 'fp_browser') || entry.expiresAt < Date.now()) {
      return html(res, 400, '<h1>invalid state</h1>');
    }
    pending.delete(state);
    const result = await upstreamToken({
      grant_type: 'authorization_code',
      code: query.get('code') ?? '',
      redirect_uri: `${base}/oauth/callback`,
      code_verifier: entry.verifier,
      resource: new URL('/api', up.url).href,
    });
    if (!result.ok) return html(res, 502, '<h1>upstream token exchange failed</h1>');
    const grant: UpstreamGrant = { accessToken: '', expiresAt: 0 };
    adopt(grant, result.body);
    const code = random();
    const clientQuery = entry.query;
    codes.set(code, {
      clientId: clientQuery.get('client_id') ?? '',
      redirectUri: clientQuery.get('redirect_uri') ?? '',
      challenge: clientQuery.get('code_challenge') ?? '',
      workspace: entry.workspace,
      grant,
      used: false,
    });
    const url = new URL(clientQuery.get('redirect_uri') ?? '');
    url.searchParams.set('code', code);
    if (clientQuery.get('state') !== null)
      url.searchParams.set('state', clientQuery.get('state') ?? '');
    url.searchParams.set('iss', base);
    res.writeHead(302, { location: url.href });
    res.end();
  };

  const registerClient = async (req: IncomingMessage, res: ServerResponse) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      return json(res, 400, { error: 'invalid_client_metadata' });
    }
    const uris = body.redirect_uris;
    if (!Array.isArray(uris) || uris.length === 0 || !uris.every(validRedirect))
      return json(res, 400, { error: 'invalid_redirect_uri' });
    const method = body.token_endpoint_auth_method ?? 'none';
    if (method !== 'none')
      return json(res, 400, {
        error: 'invalid_client_metadata',
        error_description: 'token_endpoint_auth_method',
      });
    const clientId = random();
    clients.set(clientId, { redirectUris: uris as string[] });
    json(res, 201, {
      ...body,
      client_id: clientId,
      client_id_issued_at: Math.floor(Date.now() / 1000),
      token_endpoint_auth_method: 'none',
    });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = `${req.method} ${url.pathname}`;
    const fail = (error: unknown) =>
      json(res, 500, { error: 'server_error', error_description: String(error) });
    const mcpMatch = /^\/mcp\/([a-z0-9-]+)$/.exec(url.pathname);
    if (mcpMatch?.[1] && workspaces.includes(mcpMatch[1]) && req.method === 'POST')
      return void mcp(req, res, mcpMatch[1]).catch(fail);
    const prmMatch = /^\/\.well-known\/oauth-protected-resource\/mcp\/([a-z0-9-]+)$/.exec(
      url.pathname,
    );
    if (prmMatch?.[1] && workspaces.includes(prmMatch[1])) {
      return json(res, 200, {
        resource: mcpUrl(prmMatch[1]),
        authorization_servers: [base],
        bearer_methods_supported: ['header'],
      });
    }
    if (route === 'GET /.well-known/oauth-authorization-server') {
      return json(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        registration_endpoint: `${base}/register`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (route === 'GET /authorize') return authorize(req, res, url.searchParams);
    if (route === 'POST /consent') return void consent(req, res).catch(fail);
    if (route === 'GET /oauth/callback')
      return void callback(req, res, url.searchParams).catch(fail);
    if (route === 'POST /token') return void token(req, res).catch(fail);
    if (route === 'POST /register') return void registerClient(req, res).catch(fail);
    json(res, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    mcpUrls: workspaces.map(mcpUrl),
    callbackUrl: `${base}/oauth/callback`,
    configure: (upstream) => {
      up = upstream;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
