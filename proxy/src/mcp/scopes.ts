/**
 * The OAuth scope check of tool calls: a `tools/call` whose token lacks the scopes of every
 * security alternative of the tool's operation is refused with 403 insufficient_scope before any
 * upstream request, naming the scopes to ask for (MCP authorization, scope challenge handling).
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-challenge-handling
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
import type { Response } from 'express';
import type { GeneratedTool } from '../types';

/**
 * The scopes `tool` needs that `granted` lacks, as the whole scope list of the alternative
 * closest to being met (fewest missing, spec order on ties); undefined when the call may proceed.
 */
export function missingScopes(
  tool: GeneratedTool,
  granted: ReadonlySet<string>,
): string[] | undefined {
  const alternatives = tool.binding.scopes;
  if (alternatives === undefined || alternatives.length === 0) return undefined;
  let closest: string[] | undefined;
  let fewest = Number.POSITIVE_INFINITY;
  for (const alternative of alternatives) {
    const missing = alternative.filter((scope) => !granted.has(scope)).length;
    if (missing === 0) return undefined;
    if (missing < fewest) {
      fewest = missing;
      closest = alternative;
    }
  }
  return closest;
}

/** The names of the tools a JSON-RPC message or batch calls. */
export function calledTools(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  const names: string[] = [];
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (method !== 'tools/call' || typeof params !== 'object' || params === null) continue;
    const name = (params as { name?: unknown }).name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

/**
 * The scopes a request's tool calls need beyond `granted` (several calls in a batch: the union),
 * or undefined when all may proceed. Unknown tools are left to the MCP server to refuse.
 */
export function scopesToStepUp(
  toolsByName: ReadonlyMap<string, GeneratedTool>,
  body: unknown,
  granted: readonly string[],
): string[] | undefined {
  const names = calledTools(body);
  if (names.length === 0) return undefined;
  const have = new Set(granted);
  const needed = new Set<string>();
  for (const name of names) {
    const tool = toolsByName.get(name);
    for (const scope of (tool && missingScopes(tool, have)) ?? []) needed.add(scope);
  }
  return needed.size > 0 ? [...needed] : undefined;
}

/** Answers 403 with the RFC 6750 `insufficient_scope` challenge naming `scopes`. */
export function sendInsufficientScope(
  res: Response,
  scopes: readonly string[],
  resourceMetadata: string | undefined,
): void {
  // RFC 6749 §3.3 scope tokens: no quote, backslash, space or control character.
  const scope = scopes.map((s) => s.replace(/[^\x21\x23-\x5b\x5d-\x7e]/g, '')).join(' ');
  const metadata =
    resourceMetadata === undefined ? '' : `, resource_metadata="${resourceMetadata}"`;
  res
    .status(403)
    .set('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${scope}"${metadata}`)
    .json({
      error: 'insufficient_scope',
      error_description: `This tool call needs the scope ${scope}; authorize again with it`,
    });
}
