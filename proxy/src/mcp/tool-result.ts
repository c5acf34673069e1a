/**
 * Turns an upstream HTTP answer into an MCP CallToolResult: the body as bounded text, the parsed
 * object as structuredContent when the tool declares an outputSchema, and `isError` for 4xx/5xx.
 */
import { STATUS_CODES } from 'node:http';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { GeneratedTool } from '../types';
import type { UpstreamResponse } from '../upstream/execute';

/** Characters of an upstream body a successful result carries as text. */
export const MAX_RESULT_TEXT = 100_000;
/** Characters of an upstream error body quoted in an `isError` result. */
export const MAX_ERROR_EXCERPT = 2_000;

/** The MCP result for an upstream answer. */
export function toolResult(tool: GeneratedTool, response: UpstreamResponse): CallToolResult {
  const { status, body } = response;
  if (status >= 400) {
    const reason = STATUS_CODES[status] ?? 'Error';
    const excerpt = body === '' ? '' : `: ${bounded(body, MAX_ERROR_EXCERPT)}`;
    return {
      content: [{ type: 'text', text: `Upstream answered ${status} ${reason}${excerpt}` }],
      isError: true,
    };
  }
  const result: CallToolResult = {
    content: [
      {
        type: 'text',
        text: body === '' ? `Upstream answered ${status}` : bounded(body, MAX_RESULT_TEXT),
      },
    ],
  };
  if (tool.outputSchema) {
    const parsed = jsonObject(body);
    if (parsed) result.structuredContent = parsed;
  }
  return result;
}

/** A failed call's result, for failures the model may act on (timeouts, size cap). */
export function toolFailure(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… [truncated: ${text.length - max} more characters]`;
}

function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
