import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, headlessEnv, McpRemote, writeBrowserProgram } from './mcp-remote';
import { type Counters, FIVE_TOOLS, type SeedStack, startSeedStack, waitFor } from './stack';

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

describe('mcp-remote, as in the seed step 5, against the proxy and the test server', () => {
  let stack: SeedStack;
  let dir: string;
  let remote: McpRemote | undefined;
  let browserLog: string;
  const browserRuns = (): string[] =>
    existsSync(browserLog)
      ? readFileSync(browserLog, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('open '))
      : [];

  before(async () => {
    // The proxy's own access tokens live 3 s, the upstream's 2 s: both legs must refresh.
    stack = await startSeedStack({ autoApprove: true, timings: { accessTokenTtl: 3_000 } });
    await stack.control('/ttl', { method: 'PUT', body: { accessToken: 2 } });
    dir = mkdtempSync(join(tmpdir(), 'e2e-mcp-remote-'));
    browserLog = join(dir, 'browser.log');
  });

  after(async () => {
    await remote?.stop();
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('authorizes once through BROWSER, lists and calls tools, and keeps working past token expiry', async (t) => {
    const callbackPort = await freePort();
    const configDir = join(dir, 'mcp-auth');
    remote = new McpRemote(
      [stack.mcpUrl, String(callbackPort)],
      headlessEnv({
        MCP_REMOTE_CONFIG_DIR: configDir,
        BROWSER: writeBrowserProgram(dir),
        E2E_BROWSER_LOG: browserLog,
      }),
    );
    const client = remote;
    try {
      await scenario(client, configDir, callbackPort);
    } catch (error) {
      t.diagnostic(`mcp-remote stderr:\n${client.stderr}`);
      t.diagnostic(`browser log:\n${existsSync(browserLog) ? readFileSync(browserLog) : ''}`);
      t.diagnostic(`proxy log:\n${stack.logs.join('')}`);
      throw error;
    }
  });

  async function scenario(client: McpRemote, configDir: string, callbackPort: number) {
    await client.waitForLog('Local STDIO server running', 45_000);
    assert.equal(browserRuns().length, 1, 'the authorization URL went to BROWSER once');
    assert.match(client.stderr, /Please authorize this client by visiting:/);
    const browsed = readFileSync(browserLog, 'utf8');
    assert.match(browsed, /^page 200 Authorize MCP CLI Proxy$/m, 'the proxy consent page showed');
    assert.match(browsed, /^done 200$/m, "mcp-remote's callback page answered 200");
    const authorizeUrl = new URL(browserRuns()[0]?.slice('open '.length) ?? '');
    assert.equal(authorizeUrl.origin, stack.proxy.url);
    assert.equal(authorizeUrl.searchParams.get('resource'), stack.mcpUrl);
    assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(
      authorizeUrl.searchParams.get('redirect_uri'),
      `http://localhost:${callbackPort}/oauth/callback`,
    );

    const init = await client.request(
      'initialize',
      {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'e2e-stdio', version: '1.0.0' },
      },
      15_000,
    );
    assert.equal(typeof init.protocolVersion, 'string');
    client.notify('notifications/initialized');

    const { tools } = (await client.request('tools/list', {}, 15_000)) as {
      tools: Array<{ name: string }>;
    };
    assert.deepEqual(tools.map((tool) => tool.name).sort(), FIVE_TOOLS);

    const created = await client.request(
      'tools/call',
      { name: 'createItem', arguments: { body: { name: 'from mcp-remote', tags: ['e2e'] } } },
      15_000,
    );
    assert.notEqual(created.isError, true, textOf(created));
    const item = JSON.parse(textOf(created)) as { id: string | number; name: string };
    assert.equal(item.name, 'from mcp-remote');
    const listed = await client.request('tools/call', { name: 'listItems', arguments: {} }, 15_000);
    assert.notEqual(listed.isError, true, textOf(listed));
    assert.match(textOf(listed), /from mcp-remote/);

    // Past both expiries: the upstream token (2 s) and the proxy's own token (3 s).
    const before = await stack.control<Counters>('/counters');
    const firstToken = savedTokens(configDir)?.access_token;
    assert.ok(firstToken, 'mcp-remote saved its tokens');
    const expiredAt = Date.now() + 3_500;
    await waitFor(
      'both access tokens to expire',
      () => (Date.now() > expiredAt ? true : undefined),
      5_000,
      100,
    );

    const later = await client.request('tools/call', { name: 'listItems', arguments: {} }, 20_000);
    assert.notEqual(later.isError, true, textOf(later));
    assert.match(textOf(later), /from mcp-remote/);
    const users = await client.request('tools/call', { name: 'listUsers', arguments: {} }, 20_000);
    assert.notEqual(users.isError, true, textOf(users));

    assert.equal(browserRuns().length, 1, 'no second authorization');
    const counters = await stack.control<Counters>('/counters');
    const refreshes =
      (counters.grants.refresh_token?.ok ?? 0) - (before.grants.refresh_token?.ok ?? 0);
    assert.ok(refreshes >= 1, `the proxy refreshed the upstream token (${refreshes} refreshes)`);
    assert.equal(counters.grants.authorization_code?.ok, 1, 'one upstream authorization');
    const secondToken = savedTokens(configDir)?.access_token;
    assert.ok(
      secondToken !== undefined && secondToken !== firstToken,
      'mcp-remote refreshed at the proxy',
    );
  }
});
