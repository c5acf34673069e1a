/**
 * `proxy tools <spec url or file> [--json]`: previews the MCP tools a spec yields, and the
 * operations skipped with their reasons. Exit codes: 0 done, 1 the spec cannot be used, 2 usage.
 */
import { parseArgs } from 'node:util';
import { SpecError } from '../openapi/errors';
import { generateTools } from '../openapi/generate';
import { loadSpec } from '../openapi/load';
import type { GeneratedTool, SpecSource, ToolSet } from '../types';

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export const TOOLS_USAGE = `Usage: proxy tools <spec url or file> [options]

Previews the MCP tools an OpenAPI 3.0/3.1 or Swagger 2.0 document yields.

Options:
  --json                     print the generated tool set as JSON
  --external-refs            resolve $refs into other files or URLs
  --allow-private-networks   allow fetching from private address ranges (loopback is allowed)
  -h, --help                 show this help
`;

/** Runs `proxy tools`; returns the exit code. */
export async function runToolsCommand(argv: string[], io: CommandIo = process): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr.write(
      `proxy tools: ${err instanceof Error ? err.message : String(err)}\n\n${TOOLS_USAGE}`,
    );
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(TOOLS_USAGE);
    return 0;
  }
  const [spec, ...extra] = positionals;
  if (spec === undefined || extra.length > 0) {
    io.stderr.write(`proxy tools: expected exactly one spec URL or file\n\n${TOOLS_USAGE}`);
    return 2;
  }
  const source: SpecSource = /^https?:\/\//i.test(spec)
    ? { kind: 'url', url: spec }
    : { kind: 'file', path: spec };
  const limits = { allowPrivateNetworks: values['allow-private-networks'] === true };
  let set: ToolSet;
  try {
    const loaded = await loadSpec(source, limits);
    set = await generateTools(loaded.document, {
      specHash: loaded.hash,
      ...(loaded.url ? { specUrl: loaded.url } : {}),
      ...(loaded.path ? { specPath: loaded.path } : {}),
      externalRefs: values['external-refs'] === true,
      fetchLimits: limits,
    });
  } catch (err) {
    if (err instanceof SpecError) {
      const where = err.pointer ? ` (at ${err.pointer})` : '';
      io.stderr.write(`proxy tools: ${spec}: ${err.message}${where} [${err.code}]\n`);
      return 1;
    }
    throw err;
  }
  io.stdout.write(values.json ? `${JSON.stringify(set, null, 2)}\n` : formatToolSet(set));
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      'external-refs': { type: 'boolean' },
      'allow-private-networks': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function hints(tool: GeneratedTool): string {
  const a = tool.annotations;
  if (a.readOnlyHint) return 'read-only';
  if (a.destructiveHint) return 'destructive';
  return a.idempotentHint ? 'idempotent' : '';
}

/** The human-readable preview: a table of tools, then skipped operations and notes. */
export function formatToolSet(set: ToolSet): string {
  const lines: string[] = [];
  const heading = [set.title || '(untitled)', set.version].filter(Boolean).join(' ');
  lines.push(`${heading}: ${set.tools.length} tools, ${set.skipped.length} skipped`);
  lines.push(`base URL: ${set.baseUrl ?? '(none: set one on the workspace)'}`, '');
  const rows = [
    ['NAME', 'METHOD', 'PATH', 'HINTS'],
    ...set.tools.map((t) => [t.name, t.binding.method, t.binding.path, hints(t)]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  for (const row of rows) {
    lines.push(
      row
        .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell))
        .join('  ')
        .trimEnd(),
    );
  }
  if (set.skipped.length > 0) {
    lines.push('', 'Skipped:');
    for (const s of set.skipped) {
      const id = s.operationId ? ` (${s.operationId})` : '';
      lines.push(`  ${s.method} ${s.path}${id}: ${s.reason}`, `    at ${s.pointer}`);
    }
  }
  if (set.notes.length > 0) {
    lines.push('', 'Notes:', ...set.notes.map((n) => `  ${n}`));
  }
  return `${lines.join('\n')}\n`;
}
