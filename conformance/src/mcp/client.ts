/**
 * A minimal MCP client over Streamable HTTP: JSON-RPC POSTs with a bearer token, answers read as
 * JSON or as an SSE stream, the session id carried when the server assigns one. Just enough to
 * initialize and call a tool, which is all the suites need from MCP itself.
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http
 */
import { isObject } from '../oauth/json';

export const MCP_PROTOCOL_VERSION = '2025-06-18';

export interface McpHttpResult {
  status: number;
  headers: Headers;
  /** The JSON-RPC response, when one came back. */
  message?: Record<string, unknown>;
  text: string;
}

/** Extracts the JSON-RPC response with `id` from a JSON or SSE body. */
export function parseRpcBody(
  contentType: string,
  text: string,
  id: number,
): Record<string, unknown> | undefined {
  const candidates: unknown[] = [];
  if (contentType.includes('text/event-stream')) {
    for (const block of text.split(/\r?\n\r?\n/)) {
      const data = block
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (!data) continue;
      try {
        candidates.push(JSON.parse(data));
      } catch {
        // a non-JSON event is not ours
      }
    }
  } else if (text) {
    try {
      const parsed: unknown = JSON.parse(text);
      candidates.push(...(Array.isArray(parsed) ? parsed : [parsed]));
    } catch {
      return undefined;
    }
  }
  return candidates.find((c): c is Record<string, unknown> => isObject(c) && c.id === id);
}

/** One MCP session toward one endpoint with one bearer token. */
export class McpSession {
  private sessionId: string | undefined;
  private nextId = 1;

  constructor(
    readonly url: string,
    readonly token: string | undefined,
  ) {}

  /** Sends one JSON-RPC request (or notification when `notify`) and returns what came back. */
  async send(
    method: string,
    params: Record<string, unknown> = {},
    notify = false,
    signal?: AbortSignal,
  ): Promise<McpHttpResult> {
    const id = this.nextId++;
    const response = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MCP_PROTOCOL_VERSION,
        ...(this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {}),
        ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}),
      },
      body: JSON.stringify(
        notify ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id, method, params },
      ),
      ...(signal ? { signal } : {}),
    });
    const text = await response.text();
    const session = response.headers.get('mcp-session-id');
    if (session) this.sessionId = session;
    const message = notify
      ? undefined
      : parseRpcBody(response.headers.get('content-type') ?? '', text, id);
    return {
      status: response.status,
      headers: response.headers,
      text,
      ...(message ? { message } : {}),
    };
  }

  /** initialize + notifications/initialized. */
  async initialize(signal?: AbortSignal): Promise<McpHttpResult> {
    const result = await this.send(
      'initialize',
      {
        protocolVersion: MCP_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'mcp-oauth-conformance', version: '1.0.0' },
      },
      false,
      signal,
    );
    if (result.status === 200 && result.message?.result)
      await this.send('notifications/initialized', {}, true, signal);
    return result;
  }

  /** tools/call; `ok` is true for a JSON-RPC result that is not an error result. */
  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    signal?: AbortSignal,
  ): Promise<McpHttpResult & { ok: boolean }> {
    const result = await this.send('tools/call', { name, arguments: args }, false, signal);
    const payload = result.message?.result;
    const ok = result.status === 200 && isObject(payload) && payload.isError !== true;
    return { ...result, ok };
  }
}

/** Describes an MCP HTTP result in one line, for failure messages. */
export function describeMcp(result: McpHttpResult): string {
  const error = result.message?.error;
  const payload = result.message?.result;
  const detail = error
    ? JSON.stringify(error)
    : isObject(payload) && payload.isError
      ? JSON.stringify(payload.content).slice(0, 200)
      : result.text.slice(0, 200);
  return `HTTP ${result.status} ${detail}`;
}
