import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type OAuthStack, startOAuthStack } from './harness';

const root = join(__dirname, '..', '..', '..');

describe('mcp-remote, run as users run it, through the proxy', () => {
  let stack: OAuthStack;
  let dir: string;
  let browserLog: string;
  let browser: string;
  before(async () => {
    stack = await startOAuthStack({ autoApprove: true, accessTokenTtl: 2 });
    dir = mkdtempSync(join(tmpdir(), 'mcp-remote-'));
    browserLog = join(dir, 'browser.log');
    writeFileSync(browserLog, '');
    browser = join(dir, 'browser.sh');
    writeFileSync(
      browser,
      `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(__dirname, 'fixtures', 'browser.ts')}" "$@"\n`,
    );
    chmodSync(browser, 0o755);
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('authorizes through BROWSER once; tools work, also after the upstream token expired', async () => {
    let stderr = '';
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(root, 'node_modules', 'mcp-remote', 'dist', 'proxy.js'), stack.mcpUrl],
      cwd: root,
      env: {
        ...(process.env as Record<string, string>),
        BROWSER: browser,
        BROWSER_LOG: browserLog,
        MCP_REMOTE_CONFIG_DIR: join(dir, 'auth'),
      },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const client = new Client({ name: 'mcp-remote-e2e', version: '1.0.0' });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      assert.equal(tools.length, 5);
      const first = await client.callTool({ name: 'listItems', arguments: {} });
      assert.notEqual(first.isError, true, JSON.stringify(first.content));
      // The upstream access token lives 2 s: wait past it, then call again.
      await new Promise((r) => setTimeout(r, 2_300));
      const later = await client.callTool({ name: 'listUsers', arguments: {} });
      assert.notEqual(later.isError, true, JSON.stringify(later.content));
      const opened = readFileSync(browserLog, 'utf8').trim().split('\n').filter(Boolean);
      assert.equal(opened.length, 1, 'one authorization only');
      assert.ok(opened[0]?.startsWith(`${stack.proxyUrl}/oauth/test-oauth/authorize?`));
    } catch (error) {
      throw new Error(`${String(error)}\n--- mcp-remote stderr ---\n${stderr.slice(-3000)}`);
    } finally {
      await client.close();
    }
  });
});
