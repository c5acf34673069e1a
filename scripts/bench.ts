/**
 * Runs every benchmark (`<part>/bench/*.bench.ts`) one after another, each in its own process so
 * that one cannot warm or starve another. Each prints its own figures as ratios against a baseline
 * measured in the same run. `npm run bench -- proxy` runs only the files whose path has "proxy".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = ['test-server', 'proxy', 'conformance']
  .map((part) => join(root, part, 'bench'))
  .filter((dir) => existsSync(dir))
  .flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.bench.ts'))
      .map((name) => join(dir, name)),
  )
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark matched ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}

let failed = 0;
for (const file of files) {
  console.log(`\n=== ${relative(root, file)}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    stdio: 'inherit',
    // Bounded: a stuck benchmark is reported as failed instead of hanging the run.
    timeout: 10 * 60_000,
  });
  if (run.status !== 0) {
    failed += 1;
    console.error(`benchmark ${relative(root, file)} exited with ${run.status ?? run.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
