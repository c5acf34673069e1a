import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HELP, parseCli, UsageError } from '../src/cli';

const ROOT = join(__dirname, '..', '..');
const TSX = ['--import', 'tsx'];

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd = ROOT): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...TSX, 'test-server', ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Waits for the banner's last line; returns the child and what it printed. */
function startCli(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ child: ChildProcess; banner: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner within 40 s; stdout: ${out}; stderr: ${err}`));
    }, 40_000);
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('Press Ctrl+C to stop.')) {
        clearTimeout(timer);
        resolve({ child, banner: out });
      }
    });
    child.stderr?.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before the banner; stderr: ${err}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('parseCli', () => {
  test('no flags: defaults come from startTestServer', () => {
    assert.deepEqual(parseCli([]), { help: false, options: {} });
  });

  test('every flag', () => {
    const parsed = parseCli([
      '--mode',
      'dcr',
      '--port',
      '0',
      '--client-secret',
      'cs_x',
      '--redirect-uri',
      'http://a.test/cb',
      '--redirect-uri',
      'http://b.test/cb',
      '--auto-approve',
      '--access-token-ttl',
      '2',
      '--refresh-token-ttl',
      '3',
      '--token-format',
      'opaque',
      '--control-token',
      'ctl',
      '--registration-token',
      'iat',
      '--api-secret',
      'sec',
    ]);
    assert.deepEqual(parsed, {
      help: false,
      options: {
        mode: 'dcr',
        port: 0,
        clientSecret: 'cs_x',
        redirectUris: ['http://a.test/cb', 'http://b.test/cb'],
        autoApprove: true,
        accessTokenTtl: 2,
        refreshTokenTtl: 3,
        tokenFormat: 'opaque',
        controlToken: 'ctl',
        registrationToken: 'iat',
        apiSecret: 'sec',
      },
    });
  });

  test('mistakes name the problem and the fix', () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['--mode', 'saml'],
        /^unknown mode "saml": use --mode oauth\|dcr\|bearer\|apikey\|headers\|none$/,
      ],
      [['--port', 'abc'], /^--port must be an integer from 0 to 65535, got "abc"$/],
      [['--port', '70000'], /--port must be an integer/],
      [['--access-token-ttl', '0'], /^--access-token-ttl must be an integer from 1/],
      [['--token-format', 'paseto'], /use --token-format jwt\|opaque/],
      [['--redirect-uri', 'not a url'], /--redirect-uri "not a url" is not an absolute URL/],
      [['--bogus'], /^unknown flag --bogus: run with --help to list the flags$/],
      [['oauth'], /^unexpected argument "oauth"/],
      [['--port'], /--port/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(
        () => parseCli(argv),
        (err: unknown) => {
          assert.ok(err instanceof UsageError, argv.join(' '));
          assert.match(err.message, message);
          return true;
        },
      );
    }
  });

  test('--help lists every flag with its default', () => {
    assert.deepEqual(parseCli(['--help']), { help: true });
    for (const flag of [
      '--mode',
      '--port',
      '--client-secret',
      '--redirect-uri',
      '--auto-approve',
      '--access-token-ttl',
      '--refresh-token-ttl',
      '--token-format',
      '--control-token',
      '--registration-token',
      '--api-secret',
      '--help',
    ]) {
      assert.ok(HELP.includes(flag), flag);
    }
    assert.match(HELP, /\[3456\]/);
    assert.match(HELP, /\[oauth\]/);
  });
});

describe('the test-server command', () => {
  test('usage errors: one line on stderr, exit 2, no stack trace', async () => {
    for (const args of [['--mode', 'saml'], ['--bogus'], ['--port', 'x']]) {
      const { code, stderr, stdout } = await run(args);
      assert.equal(code, 2, args.join(' '));
      assert.equal(stdout, '');
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0] ?? '', /^test-server: /);
      assert.doesNotMatch(stderr, /\n\s+at /);
    }
  });

  test('--help prints the flags and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /--token-format/);
  });

  test('a port in use: one line naming the fix, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const { code, stderr } = await run(['--port', String(port)]);
      assert.equal(code, 1);
      assert.equal(
        stderr.trim(),
        `test-server: port ${port} is already in use: stop the other process or pass --port <free port> (0 picks one)`,
      );
    } finally {
      blocker.close();
    }
  });

  test('npx tsx test-server prints the seed banner and serves; SIGTERM stops it', async () => {
    const { child, banner } = await startCli(
      process.execPath,
      [
        ...TSX,
        'test-server',
        '--mode',
        'oauth',
        '--port',
        '0',
        '--client-secret',
        'cs_fixed_secret',
      ],
      ROOT,
    );
    try {
      const url = /listening on (http:\/\/localhost:\d+)/.exec(banner)?.[1] ?? '';
      for (const line of [
        '🔑 Pre-registered OAuth client:',
        'client_id : test-client-id',
        'client_secret : cs_fixed_secret',
        'grant_types : authorization_code, client_credentials, refresh_token',
        `🌐 Token endpoint : ${url}/auth/token`,
        `🌐 Auth endpoint : ${url}/auth/authorize`,
        `${url}/.well-known/oauth-authorization-server`,
        `${url}/openapi.json`,
        'items:read items:write users:read',
        'alice / alice-pass',
        'Control token : ctl_',
      ]) {
        assert.ok(banner.includes(line), `banner lacks "${line}":\n${banner}`);
      }
      const res = await fetch(`${url}/openapi.json`);
      assert.equal(res.status, 200);
    } finally {
      assert.equal(await stop(child), 0);
    }
  });

  test('the secret is random per start: cs_ and at least 32 URL-safe characters', async () => {
    const { child, banner } = await startCli(
      process.execPath,
      [...TSX, 'test-server', '--port', '0'],
      ROOT,
    );
    await stop(child);
    assert.match(banner, /client_secret : cs_[A-Za-z0-9_-]{32,}\n/);
  });

  test('the seed line: cd test-server && npx ts-node src/index.ts --mode oauth', async () => {
    // What `npx ts-node` runs, started directly so that SIGTERM reaches the server itself.
    const { child, banner } = await startCli(
      process.execPath,
      [require.resolve('ts-node/dist/bin.js'), 'src/index.ts', '--mode', 'oauth', '--port', '0'],
      join(ROOT, 'test-server'),
    );
    try {
      assert.match(banner, /client_id : test-client-id/);
    } finally {
      assert.equal(await stop(child), 0);
    }
  });

  test('the static modes print their credential', async () => {
    const { child, banner } = await startCli(
      process.execPath,
      [...TSX, 'test-server', '--mode', 'headers', '--port', '0', '--api-secret', 'hs_fixed'],
      ROOT,
    );
    await stop(child);
    assert.match(banner, /X-Tenant-Id : test-tenant/);
    assert.match(banner, /X-Api-Secret : hs_fixed/);
    assert.doesNotMatch(banner, /Pre-registered/);
  });
});
