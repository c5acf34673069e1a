/**
 * Test helpers: PKCE values, token requests, control-API calls and a small browser (cookie jar,
 * manual redirects) that walks the real login and consent pages.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type RunningTestServer, startTestServer, type TestServerOptions } from '../src/server';

export const CALLBACK = 'http://localhost:8080/oauth/callback';

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** Starts a quiet test server on a free port. */
export function start(options: Partial<TestServerOptions> = {}): Promise<RunningTestServer> {
  return startTestServer({ port: 0, quiet: true, ...options });
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function asJson(res: Response): Promise<JsonResponse> {
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text };
  }
  return { status: res.status, headers: res.headers, body };
}

/** POST /auth/token as the pre-registered client (client_secret_basic unless `auth` says). */
export async function tokenRequest(
  server: RunningTestServer,
  params: Record<string, string>,
  auth: 'basic' | 'post' | 'none' | { id: string; secret: string } = 'basic',
): Promise<JsonResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const form = new URLSearchParams(params);
  if (auth === 'basic') headers.authorization = basicAuth(server.clientId, server.clientSecret);
  else if (auth === 'post') {
    form.set('client_id', server.clientId);
    form.set('client_secret', server.clientSecret);
  } else if (typeof auth === 'object') headers.authorization = basicAuth(auth.id, auth.secret);
  const res = await fetch(`${server.url}/auth/token`, { method: 'POST', headers, body: form });
  return asJson(res);
}

/** Calls the control API. */
export async function control(
  server: RunningTestServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<JsonResponse> {
  const res = await fetch(`${server.url}/__control${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.controlToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return asJson(res);
}

export async function api(
  server: RunningTestServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<JsonResponse> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return asJson(res);
}

/** Decodes a JWT's payload without checking it. */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

export interface Page {
  url: string;
  status: number;
  headers: Headers;
  html: string;
}

/** A minimal browser: keeps cookies, follows same-origin redirects, submits forms. */
export class Browser {
  readonly #cookies = new Map<string, string>();
  readonly origin: string;

  constructor(origin: string) {
    this.origin = origin;
  }

  #store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, eq).trim();
      const value = (pair ?? '').slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.trim().split('=');
        return (
          (k?.toLowerCase() === 'expires' && Date.parse(v ?? '') <= Date.now()) ||
          (k?.toLowerCase() === 'max-age' && Number(v) <= 0)
        );
      });
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  #cookieHeader(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** One request without following redirects. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { cookie: this.#cookieHeader() };
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(new URL(url, this.origin), {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      redirect: 'manual',
      ...(init.form ? { body: new URLSearchParams(init.form) } : {}),
    });
    this.#store(res);
    return res;
  }

  /**
   * Follows redirects while they stay on the server; returns either a page to fill in or the
   * redirect that left the server (the client's callback).
   */
  async navigate(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ page: Page } | { redirect: URL }> {
    let res = await this.request(url, init);
    let current = new URL(url, this.origin).href;
    for (let hops = 0; hops < 10; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) {
        return {
          page: { url: current, status: res.status, headers: res.headers, html: await res.text() },
        };
      }
      await res.arrayBuffer();
      const next = new URL(location, current);
      if (next.origin !== this.origin) return { redirect: next };
      current = next.href;
      res = await this.request(current);
    }
    throw new Error('too many redirects');
  }
}

/** The value of a hidden input in a page. */
export function hiddenInput(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden input ${name} in page`);
  return match[1];
}

/** The action of the form whose action ends with `suffix`. */
export function formAction(html: string, suffix: string): string {
  const match = new RegExp(`action="([^"]*${suffix})"`).exec(html);
  if (!match?.[1]) throw new Error(`no form posting to …${suffix}`);
  return match[1];
}

export function authorizeUrl(
  server: RunningTestServer,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(`${server.url}/auth/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: server.clientId,
    redirect_uri: CALLBACK,
    ...params,
  })) {
    if (v !== undefined) url.searchParams.set(k, v);
  }
  return url.href;
}

/**
 * Runs authorize → login (alice) → consent → callback in a browser, returning the callback URL.
 * With --auto-approve no page appears and the callback comes straight back.
 */
export async function authorizeInBrowser(
  server: RunningTestServer,
  params: Record<string, string | undefined>,
  user = { username: 'alice', password: 'alice-pass' },
  browser = new Browser(server.url),
): Promise<URL> {
  let step = await browser.navigate(authorizeUrl(server, params));
  for (let i = 0; i < 4 && 'page' in step; i++) {
    const { html } = step.page;
    const csrf = hiddenInput(html, 'csrf');
    if (html.includes('name="password"')) {
      step = await browser.navigate(formAction(html, '/login'), {
        form: { csrf, username: user.username, password: user.password },
      });
    } else if (html.includes('/confirm"')) {
      step = await browser.navigate(formAction(html, '/confirm'), { form: { csrf } });
    } else {
      throw new Error(`unexpected page ${step.page.status}: ${html.slice(0, 200)}`);
    }
  }
  if ('page' in step) throw new Error('authorization did not finish');
  return step.redirect;
}

/** A full authorization_code + PKCE flow: returns the token response. */
export async function codeFlow(
  server: RunningTestServer,
  params: Record<string, string | undefined> = {},
): Promise<JsonResponse> {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(8).toString('hex');
  const callback = await authorizeInBrowser(server, {
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    scope: 'items:read items:write users:read',
    ...params,
  });
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in callback ${callback.href}`);
  return tokenRequest(server, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: CALLBACK,
    code_verifier: verifier,
  });
}

/** Upper bound for waiting on a 2-second token lifetime to lapse. */
export const API_TTL_WAIT = 6000;
