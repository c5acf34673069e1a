/**
 * Headless Chromium (Debian's, through playwright-core) clicks once through the real pages: the
 * proxy's consent page, the test server's login and consent pages, and lands on the MCP client's
 * loopback callback; the MCP SDK client then finishes the token exchange and calls a tool.
 * Screenshots of every page go to artifacts/screenshots/ (kept by CI).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { InMemoryOAuthProvider } from '../oauth/mcp-client';
import { type Counters, FIVE_TOOLS, ROOT, type SeedStack, startSeedStack } from './stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(ROOT, 'artifacts', 'screenshots');
const CLIENT_NAME = 'Chromium E2E Client';
const SCOPES = ['items:read', 'items:write', 'users:read'];
const STEP_MS = 15_000;

/** The MCP client's loopback redirect target, as a desktop client runs it; also hosts a framing page. */
interface LoopbackCallback {
  redirectUri: string;
  origin: string;
  /** The query of every callback received, in order. */
  calls: URLSearchParams[];
  close(): Promise<void>;
}

async function startLoopbackCallback(): Promise<LoopbackCallback> {
  const calls: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/oauth/callback') {
      calls.push(url.searchParams);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        '<!doctype html><html><head><title>Authorization complete</title></head><body style="font-family:system-ui,sans-serif;margin:3rem">' +
          '<h1>Authorization complete</h1><p>You can close this tab and return to the client.</p></body></html>',
      );
      return;
    }
    if (url.pathname === '/frame') {
      // An attacker's page trying to frame a URL (clickjacking).
      const src = (url.searchParams.get('src') ?? '').replace(/"/g, '&quot;');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html><body><iframe id="victim" src="${src}"></iframe></body></html>`,
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    redirectUri: `${origin}/oauth/callback`,
    origin,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An in-memory OAuth client whose "browser" is whoever reads `authorizationUrl`. */
class BrowserHandoffProvider extends InMemoryOAuthProvider {
  authorizationUrl?: URL;

  constructor(redirectUrl: string) {
    super(redirectUrl, CLIENT_NAME);
  }

  redirectToAuthorization(url: URL) {
    this.authorizations += 1;
    this.authorizationUrl = url;
  }
}

/** Connects an MCP client without a token: the SDK registers (once) and hands over the authorize URL. */
async function authorizationUrlFor(mcpUrl: string, provider: BrowserHandoffProvider): Promise<URL> {
  provider.authorizationUrl = undefined;
  await assert.rejects(
    new Client({ name: 'chromium-e2e', version: '1.0.0' }).connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }),
    ),
    UnauthorizedError,
  );
  assert.ok(provider.authorizationUrl, 'the client was sent to the authorization endpoint');
  return provider.authorizationUrl;
}

/** The top-level documents a page loads, as `<status> <url>`. */
function recordDocuments(page: Page): string[] {
  const documents: string[] = [];
  page.on('response', (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      documents.push(`${response.status()} ${response.url()}`);
    }
  });
  return documents;
}

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });

const textOf = (result: Awaited<ReturnType<Client['callTool']>>): string =>
  (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('');

describe('headless Chromium through the real login and consent pages', () => {
  let stack: SeedStack;
  let browser: Browser;
  let callback: LoopbackCallback;
  const clients: Client[] = [];
  /** The browser (cookies) and MCP client of the first, full authorization. */
  let person: BrowserContext;
  let firstProvider: BrowserHandoffProvider;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startSeedStack({ autoApprove: false });
    callback = await startLoopbackCallback();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 30_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-proxy-server',
      ],
    });
  });

  after(async () => {
    for (const client of clients) await client.close().catch(() => {});
    await browser?.close();
    await callback?.close();
    await stack?.close();
  });

  test('approve, sign in as alice, allow: the MCP client gets its token and calls listItems', async () => {
    const provider = new BrowserHandoffProvider(callback.redirectUri);
    firstProvider = provider;
    const authorizationUrl = await authorizationUrlFor(stack.mcpUrl, provider);

    person = await browser.newContext({ viewport: { width: 900, height: 700 } });
    const page = await person.newPage();
    const proxyCallbacks: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${stack.proxy.url}/oauth/callback`)) {
        proxyCallbacks.push(request.url());
      }
    });
    page.setDefaultTimeout(STEP_MS);

    // 1. The proxy's consent page.
    const consent = await page.goto(authorizationUrl.href);
    assert.equal(consent?.status(), 200);
    await shoot(page, 'chromium-1-proxy-consent.png');
    assert.equal(await page.locator('#client-name').textContent(), CLIENT_NAME);
    assert.equal(await page.locator('#redirect-uri').textContent(), callback.redirectUri);
    assert.deepEqual(await page.locator('#scopes li').allTextContents(), SCOPES);
    const headers = consent?.headers() ?? {};
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    await page.locator('#approve').click();

    // 2. The test server's login page.
    await page.waitForURL(
      (url) => url.origin === stack.upstream.url && url.pathname.includes('/interaction/'),
    );
    await page.locator('#username').waitFor();
    await shoot(page, 'chromium-2-upstream-login.png');
    await page.locator('#username').fill('alice');
    await page.locator('#password').fill('alice-pass');
    await page.getByRole('button', { name: 'Sign in' }).click();

    // 3. The test server's consent page.
    await page.getByRole('heading', { name: 'Authorize access' }).waitFor();
    await shoot(page, 'chromium-3-upstream-consent.png');
    const upstreamConsent = (await page.locator('body').textContent()) ?? '';
    assert.match(upstreamConsent, /Signed in as\s+alice/);
    for (const scope of SCOPES) assert.ok(upstreamConsent.includes(scope), scope);
    await page.getByRole('button', { name: 'Allow' }).click();

    // 4. Back at the MCP client's loopback callback, through the proxy's /oauth/callback.
    await page.waitForURL((url) => url.href.startsWith(callback.redirectUri));
    await page.getByRole('heading', { name: 'Authorization complete' }).waitFor();
    await shoot(page, 'chromium-4-client-callback.png');
    const query = callback.calls.at(-1) ?? new URLSearchParams();
    assert.equal(query.get('state'), provider.lastState);
    assert.equal(query.get('error'), null);
    const code = query.get('code');
    assert.ok(code, 'the callback carries the proxy authorization code');

    // 5. The upstream's redirect to the proxy opened again (reload, history): an error page.
    assert.equal(proxyCallbacks.length, 1, 'the upstream sent the browser to /oauth/callback');
    const replay = await page.goto(proxyCallbacks[0] ?? '');
    assert.equal(replay?.status(), 400);
    await page.getByRole('heading', { name: 'Authorization failed' }).waitFor();
    await shoot(page, 'chromium-7-replayed-callback.png');
    assert.equal(callback.calls.length, 1, 'the client was not called back again');
    await page.close();

    const transport = new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {
      authProvider: provider,
    });
    await transport.finishAuth(code);
    const client = new Client({ name: 'chromium-e2e', version: '1.0.0' });
    clients.push(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { authProvider: provider }),
    );
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), FIVE_TOOLS);
    const listed = await client.callTool({ name: 'listItems', arguments: {} });
    assert.notEqual(listed.isError, true, textOf(listed));
    assert.equal(provider.authorizations, 1);

    const counters = await stack.control<Counters>('/counters');
    assert.equal(counters.grants.authorization_code?.ok, 1, 'one upstream code exchange');
    assert.ok(
      (counters.endpoints['api:listItems'] ?? 0) >= 1,
      'listItems reached the upstream API',
    );
  });

  test('another site cannot frame the consent page', async () => {
    const provider = new BrowserHandoffProvider(callback.redirectUri);
    const target = (await authorizationUrlFor(stack.mcpUrl, provider)).href;
    const context = await browser.newContext({ viewport: { width: 900, height: 500 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const framed = page.waitForResponse((r) => r.url() === target);
    await page.goto(`${callback.origin}/frame?src=${encodeURIComponent(target)}`);
    const response = await framed;
    assert.equal(response.status(), 200, 'the proxy answered the framed request');
    await page.waitForLoadState('load');
    await shoot(page, 'chromium-5-framing-refused.png');
    const frame = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(frame, 'the iframe exists');
    assert.equal(
      await frame.locator('#approve').count(),
      0,
      'the Approve button is not shown in a frame',
    );
    assert.notEqual(frame.url(), target, 'Chromium blocked the framed consent page');
    await context.close();
  });

  test('the same person authorizing the same client again: no consent page, straight back with a code', async () => {
    firstProvider.saved = undefined;
    const url = await authorizationUrlFor(stack.mcpUrl, firstProvider);
    const page = await person.newPage();
    page.setDefaultTimeout(STEP_MS);
    const documents = recordDocuments(page);
    const before = callback.calls.length;
    await page.goto(url.href);
    await page.waitForURL((u) => u.href.startsWith(callback.redirectUri));
    await shoot(page, 'chromium-6-remembered-consent.png');
    const query = callback.calls[before];
    assert.ok(query, `the browser came back; pages: ${documents.join(', ')}`);
    assert.equal(query.get('state'), firstProvider.lastState);
    const code = query.get('code');
    assert.ok(code, 'with a code');
    const shown = documents.filter(
      (d) => d.startsWith('200 ') && !d.includes(callback.redirectUri),
    );
    assert.deepEqual(shown, [], 'no page was shown on the way');
    await page.close();
    await new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {
      authProvider: firstProvider,
    }).finishAuth(code);
    const client = new Client({ name: 'chromium-e2e', version: '1.0.0' });
    clients.push(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { authProvider: firstProvider }),
    );
    const listed = await client.callTool({ name: 'listItems', arguments: {} });
    assert.notEqual(listed.isError, true, textOf(listed));
  });

  test('Deny on the consent page: the client gets access_denied and the upstream is never asked', async () => {
    const provider = new BrowserHandoffProvider(callback.redirectUri);
    const url = await authorizationUrlFor(stack.mcpUrl, provider);
    const authorizeBefore = (await stack.control<Counters>('/counters')).endpoints.authorize ?? 0;
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await page.goto(url.href);
    await page.locator('#deny').click();
    await page.waitForURL((u) => u.href.startsWith(callback.redirectUri));
    const query = callback.calls.at(-1);
    assert.equal(query?.get('error'), 'access_denied');
    assert.equal(query?.get('state'), provider.lastState);
    assert.equal(query?.get('code'), null);
    const authorizeAfter = (await stack.control<Counters>('/counters')).endpoints.authorize ?? 0;
    assert.equal(authorizeAfter, authorizeBefore, 'no upstream authorize request');
    await context.close();
  });
});
