/**
 * The CLI as a user runs it: --help, usage errors (exit 2), a run against a broken AS (exit 1,
 * Markdown on stdout, four reports), the printed replay command reproducing exactly the shrunk
 * case, and a clean run (exit 0).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCli, replayPrefix, UsageError } from '../src/cli';
import type { RunReport } from '../src/types';
import { type FakeAs, startFakeAs } from './fakes/fake-as';

const ROOT = join(__dirname, '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run conformance -- …` the way npm does (tsx on conformance/), without npm's noise. */
function conformance(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'conformance', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Splits a printed replay command into argv after `npm run conformance --`. */
function replayArgs(command: string): string[] {
  const rest = command.replace(/^npm run conformance -- /, '');
  return [...rest.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => {
    const value = m[1] ?? m[2] ?? m[3] ?? '';
    return value === '$CONFORMANCE_CLIENT_SECRET'
      ? (process.env.CONFORMANCE_CLIENT_SECRET ?? '')
      : value;
  });
}

describe('parseCli', () => {
  test('defaults', () => {
    const config = parseCli(['--as', 'http://127.0.0.1:1', '--client-id', 'c'], {});
    assert.equal(config.runs, 100);
    assert.equal(config.reportDir, 'reports');
    assert.equal(config.as?.clientAuth, 'none');
    assert.equal(config.as?.redirectUri, 'http://localhost:8080/oauth/callback');
    assert.equal(config.tool, 'listItems');
  });

  test('secrets may come from the environment', () => {
    const config = parseCli(
      ['--as', 'http://127.0.0.1:1', '--client-id', 'c', '--upstream', 'http://127.0.0.1:2'],
      {
        CONFORMANCE_CLIENT_SECRET: 's3cret',
        CONFORMANCE_CONTROL_TOKEN: 'ct',
      },
    );
    assert.equal(config.as?.clientSecret, 's3cret');
    assert.equal(config.as?.clientAuth, 'client_secret_basic');
    assert.equal(config.controlToken, 'ct');
  });

  test('the replay prefix reaches the same targets and never holds a secret', () => {
    const argv = [
      '--as',
      'http://127.0.0.1:1/realm x',
      '--client-id',
      "it's",
      '--client-secret',
      'S3CRET',
      '--client-auth',
      'post',
      '--password',
      'PW',
      '--username',
      'bob',
      '--upstream',
      'http://127.0.0.1:2',
      '--control-token',
      'CT',
      '--proxy',
      'http://127.0.0.1:3/mcp/a',
      '--refresh-grace',
      '10',
    ];
    const prefix = replayPrefix(parseCli(argv, {}));
    for (const secret of ['S3CRET', 'PW', 'CT']) assert.ok(!prefix.includes(secret), secret);
    assert.equal(
      prefix,
      `npm run conformance -- --proxy http://127.0.0.1:3/mcp/a --upstream http://127.0.0.1:2 --control-token "$CONFORMANCE_CONTROL_TOKEN" --as 'http://127.0.0.1:1/realm x' --client-id 'it'\\''s' --redirect-uri http://localhost:8080/oauth/callback --client-secret "$CONFORMANCE_CLIENT_SECRET" --client-auth post --username bob --password "$CONFORMANCE_PASSWORD" --refresh-grace 10`,
    );
  });

  const mistakes: Array<[string[], RegExp]> = [
    [[], /nothing to test/],
    [['--self-contained', '--runs', 'abc'], /--runs must be an integer >= 1, got "abc"/],
    [['--self-contained', '--runs', '0'], /--runs must be an integer >= 1/],
    [['--self-contained', '--suite', 'nope'], /unknown --suite "nope"; suites: as-metadata/],
    [['--self-contained', '--check', 'nope'], /unknown --check "nope"/],
    [['--proxy', 'ftp://x/mcp'], /--proxy must be an http\(s\) URL/],
    [['--as', 'http://127.0.0.1:1'], /--as needs --client-id/],
    [['--client-id', 'x', '--self-contained'], /go with --as/],
    [['--self-contained', '--upstream', 'http://127.0.0.1:2'], /--upstream needs --control-token/],
    [['--self-contained', '--path', '0:1'], /--path replays one case/],
    [['--self-contained', '--bogus'], /Unknown option '--bogus'/],
    [
      ['--as', 'http://127.0.0.1:1', '--client-id', 'c', '--client-auth', 'basic'],
      /--client-auth basic needs --client-secret/,
    ],
  ];
  for (const [argv, message] of mistakes) {
    test(`refuses ${argv.join(' ') || '(no arguments)'}`, () => {
      assert.throws(
        () => parseCli(argv, {}),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
      );
    });
  }
});

describe('the conformance command', () => {
  let broken: FakeAs;
  let correct: FakeAs;
  let dir: string;
  before(async () => {
    broken = await startFakeAs({ flaw: 'reuses-codes' });
    correct = await startFakeAs();
    dir = await mkdtemp(join(tmpdir(), 'conformance-cli-'));
  });
  after(async () => {
    await broken.close();
    await correct.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('--help explains every flag and exits 0', async () => {
    const run = await conformance(['--help']);
    assert.equal(run.code, 0);
    for (const flag of [
      '--proxy',
      '--upstream',
      '--control-token',
      '--as',
      '--client-id',
      '--client-secret',
      '--redirect-uri',
      '--suite',
      '--check',
      '--seed',
      '--runs',
      '--path',
      '--report-dir',
      '--self-contained',
    ]) {
      assert.match(run.stdout, new RegExp(`^\\s+${flag}\\b.*\\S`, 'm'), flag);
    }
  });

  test('a usage error exits 2 and names the flag', async () => {
    const run = await conformance(['--self-contained', '--seed', '-4']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--seed/);
    assert.match(run.stderr, /--help/);
  });

  test('a MUST failure exits 1, prints the Markdown summary, writes the reports, and its replay reproduces the case', async () => {
    const reportDir = join(dir, 'broken');
    const env = { CONFORMANCE_CLIENT_SECRET: broken.clientSecret };
    process.env.CONFORMANCE_CLIENT_SECRET = broken.clientSecret;
    const args = [
      '--as',
      broken.issuer,
      '--client-id',
      broken.clientId,
      '--redirect-uri',
      broken.redirectUri,
      '--suite',
      'as-pkce',
      '--seed',
      '99',
      '--runs',
      '5',
      '--report-dir',
      reportDir,
    ];
    const run = await conformance(args, env);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^\*\*1 MUST check\(s\) failed/m);
    assert.match(run.stdout, /\| ❌ FAIL \| `as-pkce-code-single-use`/);
    assert.ok(!run.stdout.includes(broken.clientSecret), 'the secret is never printed');
    assert.deepEqual((await readdir(reportDir)).sort(), [
      'conformance.html',
      'conformance.json',
      'conformance.junit.xml',
      'conformance.md',
    ]);
    const report = JSON.parse(
      await readFile(join(reportDir, 'conformance.json'), 'utf8'),
    ) as RunReport;
    const failure = report.results.find((r) => r.id === 'as-pkce-code-single-use');
    assert.ok(failure?.property);
    assert.match(failure.property.replay, /--client-secret "\$CONFORMANCE_CLIENT_SECRET"/);

    const replayDir = join(dir, 'replay');
    const replay = await conformance(
      [...replayArgs(failure.property.replay), '--report-dir', replayDir],
      env,
    );
    assert.equal(replay.code, 1, replay.stderr);
    const replayed = JSON.parse(
      await readFile(join(replayDir, 'conformance.json'), 'utf8'),
    ) as RunReport;
    assert.deepEqual(
      replayed.results.map((r) => r.id),
      ['as-pkce-code-single-use'],
    );
    assert.equal(replayed.results[0]?.property?.counterexample, failure.property.counterexample);
    assert.equal(replayed.results[0]?.cases, 1, 'exactly the one case is replayed');
  });

  test('a clean run exits 0', async () => {
    const run = await conformance(
      [
        '--as',
        correct.issuer,
        '--client-id',
        correct.clientId,
        '--redirect-uri',
        correct.redirectUri,
        '--suite',
        'as',
        '--runs',
        '3',
        '--report-dir',
        join(dir, 'clean'),
        '--quiet',
      ],
      { CONFORMANCE_CLIENT_SECRET: correct.clientSecret },
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /^\*\*no MUST check failed: 14 passed, 0 failed, 0 errors, 1 skipped of 15/m,
    );
  });
});
