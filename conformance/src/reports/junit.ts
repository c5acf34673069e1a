/** The JUnit XML report: one testsuite per suite, one testcase per check; failures carry the counterexample. */
import type { CheckResult, RunReport } from '../types';
import { bySuite } from './common';

/** Escapes text for XML attributes and element content (and drops characters XML 1.0 forbids). */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function body(r: CheckResult): string {
  const lines = [`${r.level} ${r.clause} ${r.link}`, r.message ?? ''];
  if (r.property) {
    lines.push(
      `seed: ${r.property.seed}`,
      `path: ${r.property.path}`,
      `counterexample: ${r.property.counterexample}`,
      `shrinks: ${r.property.numShrinks}`,
      `replay: ${r.property.replay}`,
    );
  }
  lines.push(...r.notes);
  return xmlEscape(lines.join('\n'));
}

function testcase(r: CheckResult): string {
  const open = `    <testcase classname="conformance.${xmlEscape(r.suite)}" name="${xmlEscape(`${r.id}: ${r.title}`)}" time="${seconds(r.durationMs)}">`;
  const props = `\n      <properties><property name="level" value="${r.level}"/><property name="clause" value="${xmlEscape(r.clause)}"/><property name="link" value="${xmlEscape(r.link)}"/></properties>`;
  let inner = '';
  if (r.status === 'failed')
    inner = `\n      <failure message="${xmlEscape(r.message ?? 'failed')}" type="${r.level}">${body(r)}</failure>`;
  if (r.status === 'error')
    inner = `\n      <error message="${xmlEscape(r.message ?? 'error')}" type="${r.level}">${body(r)}</error>`;
  if (r.status === 'skipped')
    inner = `\n      <skipped message="${xmlEscape(r.message ?? 'skipped')}"/>`;
  return `${open}${props}${inner}\n    </testcase>`;
}

export function renderJunit(report: RunReport): string {
  const s = report.summary;
  const suites = bySuite(report).map(([suite, results]) => {
    const count = (status: CheckResult['status']) =>
      results.filter((r) => r.status === status).length;
    const time = results.reduce((sum, r) => sum + r.durationMs, 0);
    return `  <testsuite name="${xmlEscape(suite)}" tests="${results.length}" failures="${count('failed')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds(time)}" timestamp="${report.startedAt}">\n${results.map(testcase).join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="mcp-oauth-conformance" tests="${s.total}" failures="${s.failed}" errors="${s.errors}" skipped="${s.skipped}" time="${seconds(report.durationMs)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
