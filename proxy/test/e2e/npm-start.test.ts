/**
 * The seed's tutorial, command for command: `npm start` prints the Claude Desktop snippet, and
 * the snippet's mcp-remote command (with a scripted BROWSER) authorizes and calls the tools.
 * `npm start -- --auto-approve` skips only the test server's login: the proxy's consent shows.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, type TestContext, test } from 'node:test';
import {
  BROWSER_UNSUPPORTED,
  freePort,
  headlessEnv,
  McpRemote,
  writeBrowserProgram,
} from './mcp-remote';
import { FIVE_TOOLS, ROOT, waitFor } from './stack';

interface NpmStart {
  child: ChildProcess;
  output: () => string;
  proxyPort: number;
}

interface Snippet {
  mcpServers: Record<string, { command: string; args: string[] }>;
}

/** `npm start -- <flags>` on free ports, in its own process group; resolves once it printed the snippet. */
async function npmStart(dir: string, flags: string[]): Promise<NpmStart> {
  const testServerPort = await freePort();
  const proxyPort = await freePort();
  let output = '';
  const child = spawn(
    'npm',
    [
      'start',
      '--',
      '--test-server-port',
      String(testServerPort),
      '--proxy-port',
      String(proxyPort),
      '--data-dir',
      join(dir, 'data'),
      ...flags,
    ],
    { cwd: ROOT, env: headlessEnv({}), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const started = { child, output: () => output, proxyPort };
  await waitFor(
    '`npm start` to print the mcp-remote command',
    () => {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      return output.includes('Or from a terminal:') || undefined;
    },
    30_000,
  );
  return started;
}

/** Stops `npm start` and everything it spawned (its process group). */
async function stopNpmStart(started: NpmStart | undefined): Promise<void> {
  const { child } = started ?? {};
  if (child?.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

/** The Claude Desktop JSON that `npm start` printed. */
function printedSnippet(output: string): Snippet {
  const json = /^\{\n\s+"mcpServers"[\s\S]*?\n\}$/m.exec(output)?.[0];
  assert.ok(json, `npm start printed the Claude Desktop snippet:\n${output}`);
  return JSON.parse(json) as Snippet;
}

describe('npm start, then the printed mcp-remote command (the seed tutorial)', {
  skip: BROWSER_UNSUPPORTED,
}, () => {
  let dir: string;
  let started: NpmStart | undefined;
  let remote: McpRemote | undefined;

  afterEach(async () => {
    await remote?.stop();
    await stopNpmStart(started);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the snippet's mcp-remote (local bin for `npx -y mcp-remote`); returns the browser log. */
  async function runSnippet(t: TestContext, snippet: Snippet): Promise<string[]> {
    const server = snippet.mcpServers['test-oauth'];
    assert.ok(server, 'the snippet names the test-oauth server');
    assert.equal(server.command, 'npx');
    const [yes, bin, url, ...rest] = server.args;
    assert.deepEqual([yes, bin, rest], ['-y', 'mcp-remote', []]);
    const browserLog = join(dir, 'browser.log');
    const lines = () =>
      existsSync(browserLog) ? readFileSync(browserLog, 'utf8').split('\n') : [];
    remote = new McpRemote(
      [url ?? '', String(await freePort())],
      headlessEnv({
        MCP_REMOTE_CONFIG_DIR: join(dir, 'mcp-auth'),
        BROWSER: writeBrowserProgram(dir),
        E2E_BROWSER_LOG: browserLog,
      }),
    );
    const client = remote;
    try {
      await client.waitForLog('Local STDIO server running', 45_000);
      await client.request(
        'initialize',
        {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'e2e-npm-start', version: '1.0.0' },
        },
        20_000,
      );
      client.notify('notifications/initialized');
      const { tools } = (await client.request('tools/list', {}, 20_000)) as {
        tools: Array<{ name: string }>;
      };
      assert.deepEqual(tools.map((tool) => tool.name).sort(), FIVE_TOOLS);
      const listed = await client.request(
        'tools/call',
        { name: 'listItems', arguments: {} },
        20_000,
      );
      assert.notEqual(listed.isError, true, JSON.stringify(listed));
      assert.equal(lines().filter((l) => l.startsWith('open ')).length, 1, 'one browser visit');
      return lines();
    } catch (error) {
      t.diagnostic(`npm start output:\n${started?.output()}`);
      t.diagnostic(`mcp-remote stderr:\n${client.stderr}`);
      t.diagnostic(`browser log:\n${lines().join('\n')}`);
      throw error;
    }
  }

  test('`npm start` prints the snippet for /mcp/test-oauth; login and both consents, then the tools', async (t) => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-npm-start-'));
    started = await npmStart(dir, []);
    const snippet = printedSnippet(started.output());
    const mcpUrl = `http://localhost:${started.proxyPort}/mcp/test-oauth`;
    assert.deepEqual(snippet, {
      mcpServers: { 'test-oauth': { command: 'npx', args: ['-y', 'mcp-remote', mcpUrl] } },
    });
    assert.ok(started.output().includes(`npx -y mcp-remote ${mcpUrl}`));
    const pages = await runSnippet(t, snippet);
    assert.ok(pages.includes('page 200 Authorize MCP CLI Proxy'), 'the proxy consent page');
    assert.ok(pages.includes('page 200 Sign in'), "the test server's login page");
  });

  test('`npm start -- --auto-approve` skips the login page, not the proxy consent page', async (t) => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-npm-start-'));
    started = await npmStart(dir, ['--auto-approve']);
    const pages = await runSnippet(t, printedSnippet(started.output()));
    assert.ok(pages.includes('page 200 Authorize MCP CLI Proxy'), 'the proxy consent page');
    assert.ok(!pages.includes('page 200 Sign in'), 'no test-server login page');
    assert.ok(!pages.includes('page 200 Authorize access'), 'no test-server consent page');
  });
});
