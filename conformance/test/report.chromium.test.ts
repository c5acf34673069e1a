/**
 * The HTML report opened in headless Chromium: it renders every check, shows failures in red with
 * their replay line, loads nothing from the network, and a screenshot is kept under
 * artifacts/conformance/ for humans (and CI artifacts).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { renderHtml } from '../src/reports/html';
import { asChecks } from '../src/suites/index';
import type { RunReport } from '../src/types';
import { startFakeAs } from './fakes/fake-as';
import { runForTest } from './helpers';

/** Runs in the page: the computed text colour (the test's tsconfig has no DOM lib). */
const colorOf = (el: unknown) =>
  (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(
    el,
  ).color;

const ARTIFACTS = join(__dirname, '..', '..', 'artifacts', 'conformance');

let browser: Browser;
let report: RunReport;

before(async () => {
  const fake = await startFakeAs({ flaw: 'ignores-verifier' });
  try {
    report = await runForTest(asChecks, {
      as: {
        issuer: fake.issuer,
        clientId: fake.clientId,
        clientSecret: fake.clientSecret,
        clientAuth: 'client_secret_basic',
        redirectUri: fake.redirectUri,
      },
    });
  } finally {
    await fake.close();
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});

after(() => browser?.close());

test('the HTML report renders in Chromium, self-contained, and is screenshotted', async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, 'report.html');
  writeFileSync(file, renderHtml(report));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(file).href);

  assert.equal(await page.title(), 'MCP OAuth conformance report');
  assert.deepEqual(requests, [pathToFileURL(file).href], 'the page loads nothing but itself');
  assert.equal(await page.locator('tbody tr').count(), report.results.length);
  const verdict = page.locator('.verdict');
  assert.match((await verdict.textContent()) ?? '', /MUST check\(s\) failed/);
  assert.equal(await verdict.evaluate(colorOf), 'rgb(207, 34, 46)');

  const failedRow = page.locator('tr', {
    has: page.locator('code', { hasText: /^as-pkce-wrong-verifier$/ }),
  });
  const status = failedRow.locator('td.status');
  assert.equal(await status.textContent(), 'FAIL');
  assert.equal(await status.evaluate(colorOf), 'rgb(207, 34, 46)');
  assert.match(
    (await failedRow.locator('pre').textContent()) ?? '',
    /--check as-pkce-wrong-verifier --seed \d+ --path \S+/,
  );
  assert.ok(
    await failedRow.locator('a[href^="https://www.rfc-editor.org/rfc/rfc7636"]').isVisible(),
  );

  const shot = join(ARTIFACTS, 'report.png');
  const png = await page.screenshot({ path: shot, fullPage: true });
  assert.ok(png.length > 10_000, 'a real screenshot was written');
  assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
  await page.close();
});
