/**
 * The four reports of a real run (a broken fake AS, so there are failures with counterexamples,
 * passes and skips): JUnit XML parses and has one testcase per check, the JSON validates against
 * the published schema, the Markdown has a table per suite, the HTML is self-contained.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { renderHtml } from '../src/reports/html';
import { writeReports } from '../src/reports/index';
import { renderJunit } from '../src/reports/junit';
import { renderMarkdown } from '../src/reports/markdown';
import { allChecks, asChecks } from '../src/suites/index';
import type { RunReport } from '../src/types';
import { type FakeAs, startFakeAs } from './fakes/fake-as';
import { runForTest } from './helpers';
import { findAll, parseXml } from './xml';

let fake: FakeAs;
let report: RunReport;
let dir: string;

before(async () => {
  fake = await startFakeAs({ flaw: 'ignores-verifier' });
  const checks = [...asChecks, ...allChecks.filter((c) => c.id === 'proxy-metadata-prm')];
  report = await runForTest(checks, {
    as: {
      issuer: fake.issuer,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      clientAuth: 'client_secret_basic',
      redirectUri: fake.redirectUri,
    },
    upstream: { url: fake.url, controlToken: fake.controlToken },
  });
  dir = await mkdtemp(join(tmpdir(), 'conformance-reports-'));
});

after(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

/** A report whose texts hold every character that needs escaping somewhere. */
function hostileReport(): RunReport {
  const base = report.results.find((r) => r.status === 'failed');
  assert.ok(base?.property);
  const nasty = `<tag a="1"> & 'q' | pipe \u0001 ]]> ${'\u{1F600}'}`;
  return {
    ...report,
    results: [
      {
        ...base,
        message: nasty,
        notes: [nasty],
        property: { ...base.property, counterexample: JSON.stringify([nasty]) },
      },
    ],
  };
}

describe('reports', () => {
  test('the run has failures with counterexamples, passes and a named skip', () => {
    assert.ok(report.summary.failed >= 2);
    assert.ok(report.summary.passed >= 8);
    assert.equal(report.summary.skipped, 1);
    assert.equal(
      report.results.find((r) => r.status === 'skipped')?.message,
      'no proxy given (--proxy)',
    );
  });

  test('writeReports writes the four files', async () => {
    const files = await writeReports(report, dir);
    for (const file of Object.values(files))
      assert.ok((await readFile(file, 'utf8')).length > 100, file);
  });

  test('JUnit XML parses; one testcase per check; failures carry seed, counterexample and replay', () => {
    const root = parseXml(renderJunit(report));
    assert.equal(root.name, 'testsuites');
    assert.equal(Number(root.attributes.tests), report.results.length);
    assert.equal(Number(root.attributes.failures), report.summary.failed);
    const cases = findAll(root, 'testcase');
    assert.equal(cases.length, report.results.length);
    const failure = cases.find((c) => c.attributes.name?.startsWith('as-pkce-wrong-verifier:'));
    const body = failure?.children.find((c) => c.name === 'failure');
    assert.ok(body, 'the failing check has a <failure>');
    assert.match(body.attributes.message ?? '', /wrong verifier/);
    assert.match(body.text, /^seed: \d+$/m);
    assert.match(
      body.text,
      /^counterexample: \[\["[A-Za-z0-9._~-]{43,128}","[A-Za-z0-9._~-]{43,128}"\]\]$/m,
    );
    assert.match(
      body.text,
      /^replay: npm run conformance -- .* --check as-pkce-wrong-verifier --seed \d+ --path \S+$/m,
    );
    const skipped = findAll(root, 'skipped');
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]?.attributes.message, 'no proxy given (--proxy)');
    assert.deepEqual(
      findAll(root, 'testsuite').map((s) => s.attributes.name),
      [
        'as-metadata',
        'as-pkce',
        'as-state',
        'as-refresh',
        'as-client-auth',
        'as-expiry',
        'proxy-metadata',
      ],
    );
  });

  test('JUnit XML escapes hostile text and stays well-formed', () => {
    const hostile = hostileReport();
    const root = parseXml(renderJunit(hostile));
    const failure = findAll(root, 'failure')[0];
    assert.ok(failure);
    assert.ok(failure.attributes.message?.includes('<tag a="1"> & \'q\''));
    assert.ok(failure.text.includes('\u{1F600}'));
    assert.ok(!failure.text.includes('\u0001'), 'a control character XML 1.0 forbids is replaced');
  });

  test('the JSON report validates against report.schema.json', async () => {
    const schema = JSON.parse(
      await readFile(join(__dirname, '..', 'report.schema.json'), 'utf8'),
    ) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const json: unknown = JSON.parse(await readFile(join(dir, 'conformance.json'), 'utf8'));
    assert.ok(validate(json), JSON.stringify(validate.errors));
    assert.ok(!validate({ ...report, schemaVersion: 2 }), 'another schemaVersion is refused');
    assert.ok(
      !validate({ ...report, results: [{ ...report.results[0], level: 'MAY' }] }),
      'an unknown level is refused',
    );
  });

  test('Markdown: a table per suite with level, linked clause and result', () => {
    const md = renderMarkdown(report);
    assert.match(md, /^# MCP OAuth conformance$/m);
    const suites = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(suites, [
      'as-metadata',
      'as-pkce',
      'as-state',
      'as-refresh',
      'as-client-auth',
      'as-expiry',
      'proxy-metadata',
      'Replay',
    ]);
    const rows = md.split('\n').filter((l) => /^\| (✅|❌|💥|⏭️) /.test(l));
    assert.equal(rows.length, report.results.length);
    for (const row of rows) {
      assert.equal(row.split(/(?<!\\)\|/).length, 7, `5 cells: ${row}`);
      assert.match(row, /\| (MUST|SHOULD) \| \[[^\]]+\]\(https:\/\/[^)]+\) \|/);
    }
    assert.match(md, /❌ FAIL \| `as-pkce-wrong-verifier`/);
    assert.match(
      md,
      /```sh\n {2}npm run conformance -- .*--check as-pkce-wrong-verifier --seed \d+ --path /,
    );
    const hostile = renderMarkdown(hostileReport());
    const row = hostile.split('\n').find((l) => l.startsWith('| ❌'));
    assert.equal(row?.split(/(?<!\\)\|/).length, 7, 'a | in a message does not break the table');
  });

  test('HTML is one self-contained page with every check', () => {
    const html = renderHtml(hostileReport());
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<style>[\s\S]+<\/style>/);
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|\ssrc=|url\(/i);
    assert.ok(!html.includes('<tag a="1">'), 'text is escaped');
    const full = renderHtml(report);
    for (const result of report.results)
      assert.ok(full.includes(`<code>${result.id}</code>`), result.id);
    assert.match(full, /class="verdict bad"/);
  });
});
