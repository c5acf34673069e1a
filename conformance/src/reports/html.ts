/** The HTML report: one self-contained page (inline CSS, no scripts, no external assets). */
import type { CheckResult, RunReport } from '../types';
import { bySuite, STATUS_LABEL, verdict } from './common';

/** Escapes text for HTML content and quoted attributes. */
export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root{color-scheme:light;--pass:#1a7f37;--fail:#cf222e;--skip:#6e7781;--err:#9a6700}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.verdict{font-weight:600;padding:.6rem .9rem;border-radius:6px;margin:1rem 0}
.verdict.ok{background:#dafbe1;color:var(--pass)}.verdict.bad{background:#ffebe9;color:var(--fail)}
table{border-collapse:collapse;width:100%;table-layout:fixed}
col.c-result{width:4.5rem}col.c-check{width:28%}col.c-level{width:5.5rem}col.c-clause{width:16%}col.c-time{width:5.5rem}
td{overflow-wrap:anywhere}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#f6f8fa;font-weight:600}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
pre{background:#f6f8fa;padding:.6rem;border-radius:6px;white-space:pre-wrap;word-break:break-all;margin:.4rem 0 0}
.status{font-weight:700;white-space:nowrap}.passed{color:var(--pass)}.failed{color:var(--fail)}.error{color:var(--err)}.skipped{color:var(--skip)}
.level{font-size:12px;border:1px solid #d0d7de;border-radius:10px;padding:0 .45rem}.MUST{border-color:var(--fail)}
dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;margin:0}dt{color:#57606a}dd{margin:0}
a{color:#0969da}
`;

function row(r: CheckResult): string {
  const details: string[] = [];
  if (r.message) details.push(`<div>${htmlEscape(r.message)}</div>`);
  if (r.property) {
    details.push(
      `<dl><dt>seed</dt><dd><code>${r.property.seed}</code></dd><dt>path</dt><dd><code>${htmlEscape(r.property.path)}</code></dd><dt>counterexample</dt><dd><code>${htmlEscape(r.property.counterexample)}</code></dd></dl><pre>${htmlEscape(r.property.replay)}</pre>`,
    );
  }
  for (const note of r.notes) details.push(`<div class="skipped">${htmlEscape(note)}</div>`);
  if (r.status === 'passed' && r.cases > 0)
    details.push(`<div class="skipped">${r.cases} cases</div>`);
  return `<tr><td class="status ${r.status}">${STATUS_LABEL[r.status]}</td><td><code>${htmlEscape(r.id)}</code><br>${htmlEscape(r.title)}</td><td><span class="level ${r.level}">${r.level}</span></td><td><a href="${htmlEscape(r.link)}">${htmlEscape(r.clause)}</a></td><td>${details.join('')}</td><td>${r.durationMs}&nbsp;ms</td></tr>`;
}

export function renderHtml(report: RunReport): string {
  const ok = report.summary.mustFailures === 0;
  const targets = [
    ...(report.targets.proxy ?? []).map((u) => `proxy <code>${htmlEscape(u)}</code>`),
    ...(report.targets.as
      ? [`authorization server <code>${htmlEscape(report.targets.as)}</code>`]
      : []),
    ...(report.targets.upstream
      ? [`upstream <code>${htmlEscape(report.targets.upstream)}</code>`]
      : []),
  ];
  const suites = bySuite(report)
    .map(
      ([suite, results]) =>
        `<h2 id="${htmlEscape(suite)}">${htmlEscape(suite)}</h2><table><colgroup><col class="c-result"><col class="c-check"><col class="c-level"><col class="c-clause"><col class="c-details"><col class="c-time"></colgroup><thead><tr><th>Result</th><th>Check</th><th>Level</th><th>Clause</th><th>Details</th><th>Time</th></tr></thead><tbody>${results.map(row).join('')}</tbody></table>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>MCP OAuth conformance report</title><style>${CSS}</style></head>
<body><h1>MCP OAuth conformance</h1>
<div>${targets.join(' · ')}</div>
<div>started ${htmlEscape(report.startedAt)} · ${report.durationMs} ms · seed <code>${report.seed}</code> · up to ${report.runs} cases per property</div>
<div class="verdict ${ok ? 'ok' : 'bad'}">${htmlEscape(verdict(report))}</div>
${suites}
</body></html>
`;
}
