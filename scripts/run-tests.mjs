#!/usr/bin/env node
// Runs every *.test.ts under test-server/, proxy/, conformance/ and scripts/ with node:test
// through tsx. Files named *.chromium.test.ts need Debian's chromium and run under
// `npm run test:browser` instead. Arguments filter files by substring:
// `npm test -- test-server/test/api` runs the files whose path contains that text.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const parts = ['test-server', 'proxy', 'conformance', 'scripts'];
const browser = process.argv.includes('--browser');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const files = parts
  .flatMap((part) => walk(join(root, part), []))
  .filter((f) => f.endsWith('.chromium.test.ts') === browser)
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
