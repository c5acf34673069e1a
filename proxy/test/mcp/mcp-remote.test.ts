/**
 * mcp-remote, run as users run it for a non-OAuth workspace: `mcp-remote <url> --header
 * "Authorization:Bearer <access key>"`, speaking MCP over its stdio to us and Streamable HTTP to
 * the proxy, whose upstream is the test server in apikey mode.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import {
  type RunningProxy,
  SEED_TOOLS,
  seedToolSet,
  startProxy,
  startTestServer,
  type TestServer,
  upstreamAuth,
  workspace,
} from './harness';

interface RpcAnswer {
  id: number;
  result?: {
    tools?: Array<{ name: string }>;
    content?: Array<{ text: string }>;
    isError?: boolean;
  };
  error?: { code: number; message: string };
}

const MCP_REMOTE = join(dirname(require.resolve('mcp-remote/package.json')), 'dist', 'proxy.js');

describe('mcp-remote with an access key header', () => {
  let upstream: TestServer;
  let proxy: RunningProxy;
  let remote: ChildProcessWithoutNullStreams;
  let stderr = '';
  const configDir = mkdtempSync(join(tmpdir(), 'mcp-remote-'));
  const pending = new Map<number, (answer: RpcAnswer) => void>();
  let nextId = 1;

  function rpc(method: string, params: unknown): Promise<RpcAnswer> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer to ${method} within 20 s; stderr:\n${stderr}`)),
        20_000,
      );
      pending.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      remote.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  before(async () => {
    upstream = await startTestServer({ mode: 'apikey', port: 0, quiet: true });
    proxy = await startProxy(
      [
        workspace({
          id: 'seed',
          auth: upstreamAuth('apikey', upstream.apiSecret ?? ''),
          baseUrl: upstream.url,
          accessKey: 'mk_remote-key',
        }),
      ],
      await seedToolSet(upstream),
    );
    remote = spawn(
      process.execPath,
      [
        MCP_REMOTE,
        `http://localhost:${proxy.port}/mcp/seed`,
        '--header',
        'Authorization:Bearer mk_remote-key',
        '--transport',
        'http-only',
      ],
      { env: { ...process.env, MCP_REMOTE_CONFIG_DIR: configDir } },
    );
    remote.stderr.setEncoding('utf8');
    remote.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    createInterface({ input: remote.stdout }).on('line', (line) => {
      const answer = JSON.parse(line) as RpcAnswer;
      pending.get(answer.id)?.(answer);
    });
  });
  after(async () => {
    remote?.kill();
    await proxy?.close();
    await upstream?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  test('initialize, tools/list and tools/call work through mcp-remote', async () => {
    const init = await rpc('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'mcp-remote-test', version: '1.0.0' },
    });
    assert.equal(init.error, undefined, JSON.stringify(init.error));
    remote.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`,
    );

    const list = await rpc('tools/list', {});
    assert.deepEqual(list.result?.tools?.map((t) => t.name).sort(), SEED_TOOLS);

    const call = await rpc('tools/call', { name: 'listUsers', arguments: {} });
    assert.equal(call.result?.isError, undefined);
    const users = JSON.parse(call.result?.content?.[0]?.text ?? '{}') as {
      users: Array<{ username: string }>;
    };
    assert.ok(users.users.some((u) => u.username === 'alice'));
  });
});
