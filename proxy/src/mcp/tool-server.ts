/**
 * One MCP server for one HTTP request to one workspace: tools/list from the workspace's enabled
 * tools, tools/call validated, executed upstream and turned into a result. Built fresh per request
 * so that nothing (request ids, pending responses) can cross from one client to another.
 */
import { createHash } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { isGrantRevoked } from '../oauth/errors';
import { RequestBuildError } from '../openapi/errors';
import type {
  CallContext,
  GeneratedTool,
  ToolSelection,
  ToolSet,
  UpstreamCredentials,
  UpstreamRequest,
  Workspace,
} from '../types';
import { type ExecuteOptions, executeUpstream, UpstreamError } from '../upstream/execute';
import { type ArgumentValidator, InvalidArgumentsError } from './arguments';
import { toolFailure, toolResult } from './tool-result';

/** Builds the upstream HTTP request of a tool call (openapi's `buildUpstreamRequest`). */
export type BuildRequest = (
  tool: GeneratedTool,
  args: Record<string, unknown>,
  baseUrl: string,
) => UpstreamRequest;

/** The subset of a pino logger the MCP endpoint writes to. */
export interface McpLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ToolServerContext {
  /** Read on each request: a session's context gets the workspace as it is now. */
  workspace: Workspace;
  /** The workspace's compiled tools, loaded only when tools/list or tools/call needs them. */
  toolSet: () => Promise<ToolSet>;
  /** The workspace's upstream credentials, asked for only when a tool is called. */
  credentials: () => UpstreamCredentials;
  grantId?: string;
  /** Told when a tool call found the OAuth grant ended for good (the client must re-authorize). */
  grantRevoked?: () => void;
  validator: ArgumentValidator;
  buildRequest: BuildRequest;
  execute?: ExecuteOptions;
  logger: McpLogger;
  serverVersion: string;
}

/** Whether the workspace's selection exposes `name`. */
export function isEnabled(selection: ToolSelection, name: string): boolean {
  if (selection.disabled.includes(name)) return false;
  return selection.enabled === 'all' || selection.enabled.includes(name);
}

/** The MCP view of a generated tool. */
export function toMcpTool(tool: GeneratedTool): Tool {
  const listed: Tool = {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema as Tool['inputSchema'],
    annotations: tool.annotations,
  };
  if (tool.title !== undefined) listed.title = tool.title;
  if (tool.outputSchema) listed.outputSchema = tool.outputSchema as Tool['outputSchema'];
  return listed;
}

/**
 * The SDK validator serves only server-to-client requests (elicitation), which this server never
 * makes; one instance for all servers spares building an Ajv per request.
 */
const sdkSchemaValidator = new AjvJsonSchemaValidator();

/** A low-level MCP Server answering tools/list and tools/call for one workspace. */
export function createToolServer(context: ToolServerContext): Server {
  const { workspace } = context;
  const server = new Server(
    { name: `mcp-proxy/${workspace.id}`, title: workspace.name, version: context.serverVersion },
    { capabilities: { tools: {} }, jsonSchemaValidator: sdkSchemaValidator },
  );

  server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    const toolSet = await loadToolSet(context);
    return toolsPage(listedTools(toolSet, context.workspace.tools), request.params?.cursor);
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    try {
      return await handleCall(context, request.params, extra.signal);
    } catch (error) {
      if (error instanceof McpError) throw error;
      // The reason stays in the log; the client learns only that the proxy failed.
      context.logger.error(
        { workspace: context.workspace.id, tool: request.params.name, err: error },
        'tool call failed inside the proxy',
      );
      throw new McpError(ErrorCode.InternalError, 'Internal error');
    }
  });

  return server;
}

async function handleCall(
  context: ToolServerContext,
  params: { name: string; arguments?: Record<string, unknown> },
  signal: AbortSignal,
): Promise<CallToolResult> {
  const { workspace } = context;
  const toolSet = await loadToolSet(context);
  const { name } = params;
  const tool = toolsByName(toolSet).get(name);
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`);
  if (!isEnabled(workspace.tools, name)) {
    throw new McpError(ErrorCode.InvalidParams, `Tool ${name} is disabled in this workspace`);
  }
  const args = params.arguments ?? {};
  try {
    context.validator.check(toolSet.specHash, tool, args);
  } catch (error) {
    if (error instanceof InvalidArgumentsError) {
      throw new McpError(ErrorCode.InvalidParams, error.message, { field: error.field });
    }
    throw error;
  }
  return callTool(context, toolSet, tool, args, signal);
}

async function loadToolSet(context: ToolServerContext): Promise<ToolSet> {
  try {
    return await context.toolSet();
  } catch (error) {
    context.logger.error(
      { workspace: context.workspace.id, err: error },
      'the workspace has no usable tool set',
    );
    throw new McpError(
      ErrorCode.InternalError,
      `The OpenAPI document of workspace ${context.workspace.id} could not be loaded`,
    );
  }
}

/** Tools per tools/list page: GitHub's 1200 tools in one answer are 7.5 MB. */
export const TOOLS_PAGE_SIZE = 100;

/** The tools a tool set and a selection expose, and a fingerprint that names this listing. */
interface Listing {
  tools: Tool[];
  fingerprint: string;
}

const listings = new WeakMap<ToolSet, Map<string, Listing>>();

/**
 * The tools/list answer for a tool set and a selection, built once per pair: a large spec's
 * thousand tools are not filtered and converted again on every tools/list.
 */
function listedTools(toolSet: ToolSet, selection: ToolSelection): Listing {
  let bySelection = listings.get(toolSet);
  if (!bySelection) {
    bySelection = new Map();
    listings.set(toolSet, bySelection);
  }
  const key = JSON.stringify(selection);
  let listing = bySelection.get(key);
  if (!listing) {
    listing = {
      tools: toolSet.tools.filter((t) => isEnabled(selection, t.name)).map(toMcpTool),
      fingerprint: createHash('sha256')
        .update(`${toolSet.specHash}\n${key}`)
        .digest('base64url')
        .slice(0, 16),
    };
    // Selections change rarely; a bound keeps a workspace toggling tools from growing this.
    if (bySelection.size >= 16) bySelection.clear();
    bySelection.set(key, listing);
  }
  return listing;
}

/**
 * One page of a listing. The cursor is opaque to clients; it names the listing it was cut from, so
 * a cursor from before the spec or the selection changed is refused rather than skipping or
 * repeating tools.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/pagination
 */
function toolsPage(
  listing: Listing,
  cursor: string | undefined,
): { tools: Tool[]; nextCursor?: string } {
  const start = cursor === undefined ? 0 : cursorOffset(listing, cursor);
  const end = start + TOOLS_PAGE_SIZE;
  const tools = listing.tools.slice(start, end);
  if (end >= listing.tools.length) return { tools };
  return { tools, nextCursor: Buffer.from(`${end}.${listing.fingerprint}`).toString('base64url') };
}

function cursorOffset(listing: Listing, cursor: string): number {
  const match = /^(\d{1,9})\.(.+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  const offset = Number(match?.[1]);
  if (!match || offset <= 0 || offset >= listing.tools.length) {
    throw new McpError(ErrorCode.InvalidParams, 'Invalid cursor');
  }
  if (match[2] !== listing.fingerprint) {
    throw new McpError(
      ErrorCode.InvalidParams,
      'Invalid cursor: the tool list changed since it was issued; list again without a cursor',
    );
  }
  return offset;
}

const indexes = new WeakMap<ToolSet, Map<string, GeneratedTool>>();

/** The tool set's tools by name, indexed once per tool set. */
export function toolsByName(toolSet: ToolSet): Map<string, GeneratedTool> {
  let index = indexes.get(toolSet);
  if (!index) {
    index = new Map(toolSet.tools.map((t) => [t.name, t]));
    indexes.set(toolSet, index);
  }
  return index;
}

async function callTool(
  context: ToolServerContext,
  toolSet: ToolSet,
  tool: GeneratedTool,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const { workspace, logger } = context;
  // An operation's own server (e.g. an uploads host) wins over the document's servers[0]. The
  // workspace's baseUrl override moves the API as a whole (say to a staging host), which is the
  // document's server: it applies only to operations without a server of their own.
  const baseUrl = tool.binding.baseUrl ?? workspace.baseUrl ?? toolSet.baseUrl;
  if (!baseUrl) {
    return toolFailure(
      `Workspace ${workspace.id} has no API base URL: its spec has no servers[0] and none is configured`,
    );
  }
  let request: UpstreamRequest;
  try {
    request = context.buildRequest(tool, args, baseUrl);
  } catch (error) {
    if (error instanceof RequestBuildError) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Invalid arguments for tool ${tool.name}: ${error.message}`,
        { field: error.arg },
      );
    }
    throw error;
  }
  const ctx: CallContext = { workspace, signal };
  if (context.grantId !== undefined) ctx.grantId = context.grantId;
  try {
    const response = await executeUpstream(request, context.credentials(), ctx, context.execute);
    logger.debug(
      {
        workspace: workspace.id,
        tool: tool.name,
        status: response.status,
        ms: response.durationMs,
      },
      'tool call',
    );
    return toolResult(tool, response);
  } catch (error) {
    if (isGrantRevoked(error)) {
      logger.warn(
        { workspace: workspace.id, tool: tool.name, grantId: context.grantId },
        'tool call: the OAuth grant ended; the client must authorize again',
      );
      context.grantRevoked?.();
      // Seen only when the HTTP answer could not become a 401 any more.
      return toolFailure('The authorization ended: authorize this MCP client again');
    }
    if (error instanceof UpstreamError) {
      logger.warn(
        { workspace: workspace.id, tool: tool.name, code: error.code, err: error.cause },
        error.message,
      );
      return toolFailure(`Upstream call failed (${error.code}): ${error.message}`);
    }
    throw error;
  }
}
