/**
 * The seed's step 5 as users run it: `mcp-remote <proxy>/mcp/test-oauth` with `BROWSER` set to a
 * program that plays the person at the browser (proxy consent, test-server login and consent),
 * then MCP over mcp-remote's stdio. Short TTLs on both legs: calls after expiry still succeed
 * and the browser opens exactly once, also across a restart of mcp-remote.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import {
  BROWSER_UNSUPPORTED,
  freePort,
  headlessEnv,
  McpRemote,
  writeBrowserProgram,
} from './mcp-remote';
import { type Counters, FIVE_TOOLS, type SeedStack, startSeedStack, waitFor } from './stack';

const STEP_MS = 20_000;

/** The text of a tools/call result. */
const textOf = (result: Record<string, unknown>): string =>
  ((result.content ?? []) as Array<{ text?: string }>).map((c) => c.text ?? '').join('');

/** mcp-remote's saved tokens for the one server it knows (under MCP_REMOTE_CONFIG_DIR). */
function savedTokens(configDir: string): { access_token: string } | undefined {
  if (!existsSync(configDir)) return undefined;
  for (const dir of readdirSync(configDir)) {
    const full = join(configDir, dir);
    for (const name of readdirSync(full).filter((n) => n.endsWith('_tokens.json'))) {
      return JSON.parse(readFileSync(join(full, name), 'utf8')) as { access_token: string };
    }
  }
  return undefined;
}

/** initialize + notifications/initialized, as an MCP host does first. */
async function initialize(client: McpRemote): Promise<void> {
  const init = await client.request(
    'initialize',
    {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'e2e-stdio', version: '1.0.0' },
    },
    STEP_MS,
  );
  assert.equal(typeof init.protocolVersion, 'string');
  client.notify('notifications/initialized');
}

async function callTool(
  client: McpRemote,
  name: string,
  args: Record<string, unknown> = {},
): Promise<string> {
  const result = await client.request('tools/call', { name, arguments: args }, STEP_MS);
  assert.notEqual(result.isError, true, `${name}: ${textOf(result)}`);
  return textOf(result);
}

describe('mcp-remote, as in the seed step 5, against the proxy and the test server', {
  skip: BROWSER_UNSUPPORTED,
}, () => {
  let stack: SeedStack;
  let dir: string;
  let configDir: string;
  let browserLog: string;
  let callbackPort: number;
  const running: McpRemote[] = [];

  /** Starts `mcp-remote <mcp url> <callback port>` the way a desktop host does. */
  const startMcpRemote = (): McpRemote => {
    const remote = new McpRemote(
      [stack.mcpUrl, String(callbackPort)],
      headlessEnv({
        MCP_REMOTE_CONFIG_DIR: configDir,
        BROWSER: writeBrowserProgram(dir),
        E2E_BROWSER_LOG: browserLog,
        E2E_LOGIN: 'alice:alice-pass',
      }),
    );
    running.push(remote);
    return remote;
  };
  const browserLines = (): string[] =>
    existsSync(browserLog) ? readFileSync(browserLog, 'utf8').split('\n') : [];
  const browserRuns = (): string[] => browserLines().filter((l) => l.startsWith('open '));
  /** When the test server last issued a token (ms epoch), from its event log. */
  const lastUpstreamTokenAt = async (): Promise<number> => {
    const { events } = await stack.control<{
      events: Array<{ kind: string; status: number; at: string }>;
    }>('/events');
    const issued = events.filter((e) => e.kind === 'token' && e.status === 200);
    assert.ok(issued.length > 0, 'the test server issued a token');
    return Math.max(...issued.map((e) => Date.parse(e.at)));
  };
  /** Runs `body`; on failure prints mcp-remote's stderr, the browser log and the proxy log. */
  const withDiagnostics = async (t: TestContext, remote: McpRemote, body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      t.diagnostic(`mcp-remote stderr:\n${remote.stderr}`);
      t.diagnostic(`browser log:\n${browserLines().join('\n')}`);
      t.diagnostic(`proxy log:\n${stack.logs.join('')}`);
      throw error;
    }
  };

  before(async () => {
    // The proxy's own access tokens live 3 s, the upstream's 2 s: both legs refresh.
    stack = await startSeedStack({ autoApprove: false, timings: { accessTokenTtl: 3_000 } });
    await stack.control('/ttl', { method: 'PUT', body: { accessToken: 2 } });
    dir = mkdtempSync(join(tmpdir(), 'e2e-mcp-remote-'));
    configDir = join(dir, 'mcp-auth');
    browserLog = join(dir, 'browser.log');
    callbackPort = await freePort();
  });

  after(async () => {
    for (const remote of running) await remote.stop();
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('authorizes once through BROWSER, lists the five tools, calls them past token expiry', async (t) => {
    const remote = startMcpRemote();
    await withDiagnostics(t, remote, async () => {
      await remote.waitForLog('Local STDIO server running', 45_000);
      assert.match(remote.stderr, /Please authorize this client by visiting:/);
      assert.equal(browserRuns().length, 1, 'the authorization URL went to BROWSER once');
      // The agent logs its last line after mcp-remote's callback answered: wait for it.
      const pages = await waitFor(
        'the browser agent to finish',
        () => {
          const lines = browserLines();
          return lines.some((l) => l.startsWith('done ') || l.startsWith('error '))
            ? lines
            : undefined;
        },
        5_000,
      );
      assert.ok(pages.includes('page 200 Authorize MCP CLI Proxy'), 'the proxy consent page');
      assert.ok(pages.includes('page 200 Sign in'), "the test server's login page");
      assert.ok(pages.includes('page 200 Authorize access'), "the test server's consent page");
      assert.ok(pages.includes('done 200'), "mcp-remote's callback page answered 200");
      const authorizeUrl = new URL(browserRuns()[0]?.slice('open '.length) ?? '');
      assert.equal(authorizeUrl.origin, stack.proxy.url);
      assert.equal(authorizeUrl.searchParams.get('resource'), stack.mcpUrl);
      assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(
        authorizeUrl.searchParams.get('redirect_uri'),
        `http://localhost:${callbackPort}/oauth/callback`,
      );

      await initialize(remote);
      const { tools } = (await remote.request('tools/list', {}, STEP_MS)) as {
        tools: Array<{ name: string }>;
      };
      assert.deepEqual(tools.map((tool) => tool.name).sort(), FIVE_TOOLS);
      const item = JSON.parse(
        await callTool(remote, 'createItem', { body: { name: 'from mcp-remote', tags: ['e2e'] } }),
      ) as { id: string | number; name: string };
      assert.equal(item.name, 'from mcp-remote');
      assert.match(await callTool(remote, 'listItems'), /from mcp-remote/);

      // Past the upstream access token's expiry (2 s after the last token the test server issued).
      const before = await stack.control<Counters>('/counters');
      const firstToken = savedTokens(configDir)?.access_token;
      assert.ok(firstToken, 'mcp-remote saved its tokens');
      const expiry = (await lastUpstreamTokenAt()) + 2_000;
      await waitFor(
        'the upstream token to expire',
        () => Date.now() > expiry + 100 || undefined,
        3_000,
      );

      assert.match(await callTool(remote, 'getItem', { id: String(item.id) }), /from mcp-remote/);
      await callTool(remote, 'listUsers');
      await callTool(remote, 'deleteItem', { id: String(item.id) });
      assert.doesNotMatch(await callTool(remote, 'listItems'), /from mcp-remote/);

      assert.equal(browserRuns().length, 1, 'no second authorization');
      const counters = await stack.control<Counters>('/counters');
      const refreshes =
        (counters.grants.refresh_token?.ok ?? 0) - (before.grants.refresh_token?.ok ?? 0);
      assert.ok(refreshes >= 1, `the proxy refreshed the upstream token (${refreshes} refreshes)`);
      assert.equal(counters.grants.authorization_code?.ok, 1, 'one upstream authorization');
      const secondToken = savedTokens(configDir)?.access_token;
      assert.ok(secondToken !== undefined && secondToken !== firstToken, 'refreshed at the proxy');
    });
    await remote.stop();
  });

  test('a restarted mcp-remote reuses its saved tokens: no browser, the tools still work', async (t) => {
    const remote = startMcpRemote();
    await withDiagnostics(t, remote, async () => {
      await remote.waitForLog('Local STDIO server running', 45_000);
      await initialize(remote);
      await callTool(remote, 'listItems');
      assert.equal(browserRuns().length, 1, 'the browser was not opened again');
      assert.doesNotMatch(remote.stderr, /Please authorize this client/);
      const counters = await stack.control<Counters>('/counters');
      assert.equal(counters.grants.authorization_code?.ok, 1, 'still one upstream authorization');
    });
  });

  test('upstream invalid_grant on refresh: mcp-remote signs in again once, mid-session, and goes on', async (t) => {
    const remote = startMcpRemote();
    await withDiagnostics(t, remote, async () => {
      await remote.waitForLog('Local STDIO server running', 45_000);
      await initialize(remote);
      await callTool(remote, 'listItems');
      assert.equal(browserRuns().length, 1);

      // The upstream refuses the next refresh for good: the proxy must drop the grant.
      await stack.control('/faults', {
        method: 'POST',
        body: {
          target: 'token',
          grant_type: 'refresh_token',
          kind: 'oauth_error',
          error: 'invalid_grant',
          times: 1,
        },
      });
      const expiry = (await lastUpstreamTokenAt()) + 2_000;
      await waitFor(
        'the upstream token to expire',
        () => Date.now() > expiry + 100 || undefined,
        3_000,
      );
      const failed = await remote.request(
        'tools/call',
        { name: 'listItems', arguments: {} },
        STEP_MS,
      );
      // The call whose refresh failed is answered 401: mcp-remote signs in again, once, and
      // retries it.
      assert.notEqual(failed.isError, true, 'the call goes through after one re-authorization');
      assert.equal(browserRuns().length, 2, 'exactly one more authorization, for that call');
      const { faults } = await stack.control<{ faults: Array<{ fired: number }> }>('/faults');
      assert.equal(faults[0]?.fired, 1, 'the upstream refused one refresh');

      assert.match(await callTool(remote, 'listItems'), /\[/);
      await callTool(remote, 'listUsers');
      assert.equal(browserRuns().length, 2, 'no authorization loop');
      const counters = await stack.control<Counters>('/counters');
      assert.equal(counters.grants.authorization_code?.ok, 2, 'a second upstream authorization');
    });
  });
});
