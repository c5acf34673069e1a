/**
 * `npm run conformance -- …`: runs the selected suites against the given targets (or a
 * self-contained stack), writes JUnit XML, JSON, Markdown and HTML reports, prints the Markdown
 * summary, and exits 1 when a MUST check failed (2 on usage errors).
 */
import { resolve } from 'node:path';
import { HELP, parseCli, replayPrefix, UsageError } from './src/cli';
import { writeReports } from './src/reports/index';
import { renderMarkdown } from './src/reports/markdown';
import { runChecks, selectChecks } from './src/runner';
import { type SelfContainedStack, startSelfContained } from './src/self-contained';
import { allChecks } from './src/suites/index';
import type { Targets } from './src/types';

async function main(argv: string[]): Promise<number> {
  const config = parseCli(argv);
  if (config.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (config.list) {
    for (const check of allChecks) {
      process.stdout.write(
        `${check.suite.padEnd(18)} ${check.id.padEnd(40)} ${check.level.padEnd(6)} ${check.clause}\n`,
      );
    }
    return 0;
  }
  let stack: SelfContainedStack | undefined;
  let targets: Targets = {};
  if (config.selfContained) {
    stack = await startSelfContained();
    targets = stack.targets;
    if (stack.proxyUnavailable) process.stderr.write(`note: ${stack.proxyUnavailable}\n`);
  }
  if (config.as) targets.as = config.as;
  if (config.proxy.length > 0) {
    targets.proxy = {
      mcpUrls: config.proxy,
      tool: config.tool,
      ...(config.stateTtl !== undefined ? { stateTtl: config.stateTtl } : {}),
      ...(config.refreshGrace !== undefined ? { refreshGrace: config.refreshGrace } : {}),
    };
  }
  if (config.upstream && config.controlToken)
    targets.upstream = { url: config.upstream, controlToken: config.controlToken };
  try {
    const checks = selectChecks(allChecks, config.suites, config.checks);
    const report = await runChecks(
      checks,
      targets,
      {
        seed: config.seed,
        runs: config.runs,
        ...(config.path !== undefined ? { path: config.path } : {}),
        timeoutMs: config.timeoutMs,
        replayPrefix: replayPrefix(config),
      },
      (result) => {
        if (config.quiet) return;
        const extra = result.status === 'passed' ? '' : ` — ${result.message ?? ''}`;
        process.stderr.write(`${result.status.toUpperCase().padEnd(7)} ${result.id}${extra}\n`);
        if (result.property) process.stderr.write(`        replay: ${result.property.replay}\n`);
      },
    );
    const files = await writeReports(report, resolve(config.reportDir));
    process.stdout.write(renderMarkdown(report));
    process.stdout.write(`\nreports: ${Object.values(files).join(', ')}\n`);
    return report.summary.mustFailures > 0 ? 1 : 0;
  } finally {
    await stack?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`conformance: ${error.message}\nRun with --help for the flags.\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(
      `conformance: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 3;
  },
);
