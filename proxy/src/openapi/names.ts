/**
 * Tool and argument names. MCP (2025-11-25) allows `[A-Za-z0-9._-]{1,128}` for tool names; common
 * clients (the Anthropic and OpenAI tool APIs) accept only `^[a-zA-Z0-9_-]{1,64}$`, so generated
 * names keep to that intersection. Names are unique and depend only on the document.
 */
import { createHash } from 'node:crypto';

export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX = 64;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** A tool-name candidate from an operationId: disallowed characters become `_`, long ones hashed. */
export function sanitizeToolName(raw: string): string {
  let name = raw.replace(/[^a-zA-Z0-9_-]+/g, '_');
  if (name === '' || name === '_') name = `op_${shortHash(raw)}`;
  if (name.length > MAX) name = `${name.slice(0, MAX - 9)}_${shortHash(raw)}`;
  return name;
}

/** A tool-name candidate for an operation without operationId: `get_api_items_id` for `GET /api/items/{id}`. */
export function nameFromMethodAndPath(method: string, path: string): string {
  const tail = path.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return sanitizeToolName(tail === '' ? method.toLowerCase() : `${method.toLowerCase()}_${tail}`);
}

/**
 * Assigns unique names in order. Candidates that needed no sanitizing claim their name first, so
 * `a_b` keeps its name even when an earlier `a.b` also sanitizes to `a_b` (which becomes `a_b_2`).
 */
export function assignUniqueNames(
  candidates: ReadonlyArray<{ raw: string; name: string }>,
): string[] {
  const taken = new Set<string>();
  const result: string[] = new Array(candidates.length);
  const order = [
    ...candidates.map((c, i) => ({ c, i })).filter(({ c }) => c.raw === c.name),
    ...candidates.map((c, i) => ({ c, i })).filter(({ c }) => c.raw !== c.name),
  ];
  for (const { c, i } of order) {
    result[i] = claim(c.name, taken);
  }
  return result;
}

/** `base`, or `base_2`, `base_3`, … (cut to stay within 64 characters), whichever is free first. */
export function claim(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) {
    const suffix = `_${n}`;
    name = `${base.slice(0, MAX - suffix.length)}${suffix}`;
  }
  taken.add(name);
  return name;
}

/** An argument (inputSchema property) name: the characters clients accept, at most 64 long. */
export function sanitizeArgName(raw: string): string {
  const name = raw.replace(/[^a-zA-Z0-9_.-]+/g, '_').slice(0, MAX);
  return name === '' || name === '_' ? 'param' : name;
}
