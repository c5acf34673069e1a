/**
 * Tool generation for GitHub's REST spec (@octokit/openapi api.github.com.json, ~1000 operations,
 * heavy $refs), measured against a plain JSON.parse of the same file in the same run. Medians of
 * several iterations after a warm-up; every iteration starts from a fresh parse so nothing is
 * shared between runs. For comparison it also times json-schema-ref-parser's full dereference
 * (circular: 'ignore'), the approach the bounded per-operation inliner replaces.
 */
import { readFileSync } from 'node:fs';
import $RefParser from '@apidevtools/json-schema-ref-parser';
import { generateTools } from '../src/openapi/generate';

const ITERATIONS = Number(process.env.ITERATIONS ?? 7);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const text = readFileSync(file, 'utf8');
  const parse: number[] = [];
  const generate: number[] = [];
  let tools = 0;
  let skipped = 0;
  for (let i = 0; i <= ITERATIONS; i++) {
    let start = performance.now();
    const document = JSON.parse(text) as unknown;
    const parsed = performance.now() - start;
    start = performance.now();
    const set = await generateTools(document, { specHash: 'bench' });
    const generated = performance.now() - start;
    tools = set.tools.length;
    skipped = set.skipped.length;
    if (i === 0) continue; // warm-up
    parse.push(parsed);
    generate.push(generated);
  }
  const deref: number[] = [];
  for (let i = 0; i < 3; i++) {
    const document = JSON.parse(text) as object;
    const start = performance.now();
    await $RefParser.dereference(document, {
      resolve: { external: false },
      dereference: { circular: 'ignore' },
      mutateInputSchema: true,
    });
    deref.push(performance.now() - start);
  }
  const p = median(parse);
  const g = median(generate);
  const mb = (Buffer.byteLength(text) / 1024 / 1024).toFixed(1);
  console.log(
    `GitHub REST spec: ${mb} MB, ${tools} tools, ${skipped} skipped; median of ${ITERATIONS} runs`,
  );
  console.log(`  JSON.parse (baseline)   ${p.toFixed(1)} ms`);
  console.log(`  generateTools           ${g.toFixed(1)} ms   ${(g / p).toFixed(2)}x JSON.parse`);
  console.log(
    `  parse + generate        ${(p + g).toFixed(1)} ms   ${((p + g) / p).toFixed(2)}x JSON.parse`,
  );
  const d = median(deref);
  console.log(
    `  ref-parser dereference  ${d.toFixed(1)} ms   ${(d / p).toFixed(2)}x JSON.parse (comparison, median of 3)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
