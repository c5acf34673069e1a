/** The Markdown report: one table per suite with level and spec links, fit for a CI job summary. */
import type { CheckResult, RunReport } from '../types';
import { bySuite, verdict } from './common';

const ICON: Record<CheckResult['status'], string> = {
  passed: '✅ pass',
  failed: '❌ FAIL',
  error: '💥 ERROR',
  skipped: '⏭️ skip',
};

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function renderMarkdown(report: RunReport): string {
  const lines: string[] = ['# MCP OAuth conformance', '', `**${verdict(report)}**`, ''];
  const targets = report.targets;
  if (targets.proxy) lines.push(`- proxy: ${targets.proxy.map((u) => `\`${u}\``).join(', ')}`);
  if (targets.as) lines.push(`- authorization server: \`${targets.as}\``);
  if (targets.upstream) lines.push(`- upstream: \`${targets.upstream}\``);
  lines.push(
    `- seed \`${report.seed}\`, up to ${report.runs} cases per property, ${report.durationMs} ms`,
    '',
  );
  for (const [suite, results] of bySuite(report)) {
    lines.push(
      `## ${suite}`,
      '',
      '| Result | Check | Level | Clause | Details |',
      '|---|---|---|---|---|',
    );
    for (const r of results) {
      const details =
        r.status === 'passed' ? (r.cases > 0 ? `${r.cases} cases` : '') : (r.message ?? '');
      lines.push(
        `| ${ICON[r.status]} | \`${r.id}\` ${cell(r.title)} | ${r.level} | [${cell(r.clause)}](${r.link}) | ${cell(details.slice(0, 300))} |`,
      );
    }
    lines.push('');
  }
  const failures = report.results.filter((r) => r.property);
  if (failures.length > 0) {
    lines.push('## Replay', '');
    for (const r of failures) {
      lines.push(
        `- \`${r.id}\`: counterexample \`${cell(r.property?.counterexample ?? '')}\``,
        '',
        '  ```sh',
        `  ${r.property?.replay}`,
        '  ```',
        '',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
