/** The `proxy` command as people run it: `node --import tsx proxy/index.ts …` in a child process. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer } from '../../../test-server/src/server';
import { runCli } from '../../src/cli';

const root = resolve(__dirname, '../../..');
const entry = join(root, 'proxy/index.ts');
const dir = mkdtempSync(join(tmpdir(), 'proxy-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The same CLI in this process: quick, for the many cases whose process behaviour is covered above. */
async function runHere(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code: code ?? null, stdout, stderr };
}

function assertNoStack(result: Run): void {
  assert.doesNotMatch(result.stderr, /\n\s+at /, `a stack trace was printed:\n${result.stderr}`);
}

describe('proxy CLI as a process', { concurrency: true }, () => {
  test('--help: usage on stdout, exit 0', async () => {
    const result = await run(['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: proxy/);
  });

  test('a usage error: exit 2, one reason and the synopsis, no stack trace', async () => {
    const result = await run(['--bogus']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^proxy: Unknown option '--bogus'/);
    assert.match(result.stderr, /\nUsage: proxy \[--config <file>\] \[options\]/);
    assertNoStack(result);
  });

  test('a runtime error: exit 1, one line, no stack trace', async () => {
    const result = await run(['--config', join(dir, 'nope.yaml')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^proxy: cannot read config file .*nope\.yaml: no such file\n$/);
  });
});

describe('proxy CLI: help and usage errors', () => {
  for (const args of [
    ['--help'],
    ['workspace', '--help'],
    ['tools', '--help'],
    ['admin-token', '--help'],
    ['help'],
  ]) {
    test(`${args.join(' ')} prints usage and exits 0`, async () => {
      const result = await runHere(args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Usage: proxy/);
    });
  }

  for (const [args, message] of [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port', 'eighty'], /--port must be a number from 0 to 65535 \(got "eighty"\)/],
    [['--token-ttl', '0'], /--token-ttl must be a whole number of seconds, at least 1 \(got "0"\)/],
    [['--refresh-grace', 'soon'], /--refresh-grace must be a whole number of seconds, at least 0/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['workspace'], /missing workspace command/],
    [['workspace', 'explode'], /unknown workspace command "explode"/],
    [['workspace', 'tools'], /workspace tools: missing workspace id/],
    [['workspace', 'enable', 'x'], /workspace enable: give tool names, or --all/],
    [
      ['workspace', 'create', '--name', 'x', '--spec', 'y', '--auth', 'bearer'],
      /--auth bearer needs --token/,
    ],
    [
      ['workspace', 'create', '--name', 'x', '--spec', 'y', '--auth', 'oauth2'],
      /--auth must be none, bearer, apikey or headers/,
    ],
    [['tools'], /expected exactly one spec/],
  ] as const) {
    test(`${args.join(' ')}: exit 2 with a one-line reason`, async () => {
      const dataDir = args[0] === 'workspace' ? ['--data-dir', join(dir, 'usage')] : [];
      const result = await runHere([...args, ...dataDir]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assertNoStack(result);
    });
  }
});

describe('proxy CLI: runtime errors exit 1 with a clear message', () => {
  test('a config with a missing variable and an invalid field', async () => {
    const missing = await runHere(['--config', 'fixtures/workspaces/bearer.yaml'], {});
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /auth\.token: environment variable TEST_SERVER_API_SECRET is not set/,
    );
    assertNoStack(missing);

    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        workspaces: [{ id: 'a', name: 'A', spec: 'x.json', auth: { type: 'apikey' } }],
      }),
    );
    const invalid = await runHere(['--config', file]);
    assert.equal(invalid.code, 1);
    assert.match(
      invalid.stderr,
      /workspaces\[0\] \("a"\)\.auth\.type: must be one of .*\(got "apikey"\)/,
    );
    assertNoStack(invalid);
  });

  test('a malformed PROXY_ENCRYPTION_KEY', async () => {
    const result = await runHere(['workspace', 'list', '--data-dir', join(dir, 'badkey')], {
      PROXY_ENCRYPTION_KEY: 'not-a-key',
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /PROXY_ENCRYPTION_KEY must be 32 random bytes, base64 or hex encoded/,
    );
    assert.doesNotMatch(result.stderr, /not-a-key/);
  });

  test('a workspace that does not exist', async () => {
    const result = await runHere([
      'workspace',
      'delete',
      'ghost',
      '--data-dir',
      join(dir, 'ghost'),
    ]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'proxy: workspace "ghost" does not exist\n');
  });

  test('workspace create with a spec that cannot be read: exit 1 naming it, nothing created', async () => {
    const data = join(dir, 'nospec');
    const missing = join(dir, 'no-such-spec.json');
    const result = await runHere([
      'workspace',
      'create',
      '--name',
      'x',
      '--spec',
      missing,
      '--data-dir',
      data,
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^proxy: the spec cannot be used: cannot read .*no-such-spec\.json/,
    );
    assertNoStack(result);
    const list = await runHere(['workspace', 'list', '--data-dir', data]);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /no workspaces/);
  });
});

describe('proxy workspace … on a data dir', () => {
  let upstream: Awaited<ReturnType<typeof startTestServer>>;
  const dataDir = join(dir, 'ws');
  before(async () => {
    upstream = await startTestServer({ mode: 'bearer', port: 0, quiet: true });
  });
  after(async () => {
    await upstream.close();
  });

  test('create, list, tools, disable, enable, access-key, delete', async () => {
    const created = await runHere([
      'workspace',
      'create',
      '--id',
      'demo',
      '--name',
      'Demo',
      '--spec',
      `${upstream.url}/openapi.json`,
      '--auth',
      'bearer',
      '--token',
      upstream.apiSecret,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const key = /access key \(shown once\): (mcpk_\S+)/.exec(created.stdout)?.[1];
    assert.ok(key, created.stdout);

    const fromFile = await runHere(
      ['workspace', 'create', '--file', 'fixtures/workspaces/headers.yaml', '--data-dir', dataDir],
      {
        TEST_SERVER_URL: upstream.url,
        TEST_SERVER_API_SECRET: 'hs_x',
      },
    );
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /created workspace test-headers/);

    const list = await runHere(['workspace', 'list', '--json', '--data-dir', dataDir]);
    assert.equal(list.code, 0, list.stderr);
    const workspaces = JSON.parse(list.stdout) as { id: string; auth: { token?: string } }[];
    assert.deepEqual(
      workspaces.map((w) => w.id),
      ['demo', 'test-headers'],
    );
    assert.equal(workspaces[0]?.auth.token, '********');
    assert.equal(list.stdout.includes(upstream.apiSecret), false);
    assert.equal(list.stdout.includes(key), false);

    const disabled = await runHere([
      'workspace',
      'disable',
      'demo',
      'deleteItem',
      'createItem',
      '--data-dir',
      dataDir,
    ]);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(disabled.stdout, 'demo: all tools enabled except createItem, deleteItem\n');

    const tools = await runHere(['workspace', 'tools', 'demo', '--data-dir', dataDir]);
    assert.equal(tools.code, 0, tools.stderr);
    assert.match(tools.stdout, /\[x\] listItems\s+GET \/api\/items\n/);
    assert.match(tools.stdout, /\[ \] deleteItem\s+DELETE \/api\/items\/\{id\}\n/);

    const json = await runHere(['workspace', 'tools', 'demo', '--json', '--data-dir', dataDir]);
    const listing = JSON.parse(json.stdout) as { tools: { name: string; enabled: boolean }[] };
    assert.deepEqual(
      listing.tools
        .filter((t) => !t.enabled)
        .map((t) => t.name)
        .sort(),
      ['createItem', 'deleteItem'],
    );

    const unknown = await runHere([
      'workspace',
      'enable',
      'demo',
      'dropTables',
      '--data-dir',
      dataDir,
    ]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no tool named "dropTables"/);

    const all = await runHere(['workspace', 'enable', 'demo', '--all', '--data-dir', dataDir]);
    assert.equal(all.stdout, 'demo: all tools enabled\n');

    const printed = await runHere(['workspace', 'access-key', 'demo', '--data-dir', dataDir]);
    assert.equal(printed.stdout, `${key}\n`);
    const rotated = await runHere([
      'workspace',
      'access-key',
      'demo',
      '--rotate',
      '--data-dir',
      dataDir,
    ]);
    assert.match(rotated.stdout, /^mcpk_/);
    assert.notEqual(rotated.stdout, printed.stdout);

    const deleted = await runHere(['workspace', 'delete', 'demo', '--data-dir', dataDir]);
    assert.equal(deleted.stdout, 'deleted workspace demo\n');
  });
});

describe('proxy --config serves', () => {
  test('prints the MCP URL, access key and admin token once; SIGTERM stops it cleanly', async () => {
    const upstream = await startTestServer({ mode: 'none', port: 0, quiet: true });
    let child: ChildProcess | undefined;
    try {
      child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          entry,
          '--config',
          'fixtures/workspaces/none.yaml',
          '--port',
          '0',
          '--data-dir',
          join(dir, 'serve'),
          '--log-level',
          'warn',
        ],
        { cwd: root, env: { PATH: process.env.PATH, TEST_SERVER_URL: upstream.url } },
      );
      let stdout = '';
      child.stdout?.on('data', (chunk) => {
        stdout += String(chunk);
      });
      const exited = new Promise<number | null>((done) => child?.on('close', (code) => done(code)));
      for (let i = 0; i < 200 && !stdout.includes('Admin API token'); i += 1) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /MCP proxy listening on (http:\/\/localhost:\d+)/.exec(stdout)?.[1];
      assert.ok(url, stdout);
      assert.match(stdout, new RegExp(`test-none {2}${url}/mcp/test-none`));
      assert.match(stdout, /access key \(shown once\): mcpk_/);
      const adminToken =
        /Admin API token \(shown once; keep it, or set PROXY_ADMIN_TOKEN\): (pxa_\S+)/.exec(
          stdout,
        )?.[1];
      const response = await fetch(`${url}/admin/workspaces`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      assert.equal(response.status, 200);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child?.exitCode === null) child.kill('SIGKILL');
      await upstream.close();
    }
  });
});
