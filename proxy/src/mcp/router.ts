/**
 * The MCP endpoint: `POST /:workspaceId` speaks Streamable HTTP (MCP SDK 1.x) for one workspace,
 * behind the Host/Origin guard and the workspace's authorization.
 *
 * Stateless by design: every POST gets its own McpServer and transport, closed with the response.
 * - Nothing is shared between clients, so no response can reach the wrong one (the SDK's
 *   cross-client leak came from one server/transport serving several clients).
 * - Each request is authorized on its own; there is no session id to steal or to bind to a grant.
 * - No session table to bound, expire or share between proxy instances; a restart or a second
 *   instance behind a load balancer loses nothing.
 * - The tools are served from the compiled per-workspace ToolSet and per-spec validators, so
 *   building a server per request is cheap.
 * The cost: no server-initiated messages. GET (the standalone SSE stream) and DELETE (session
 * end) answer 405, which the Streamable HTTP transport allows; clients carry on over POST.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { type Request, type Response, Router } from 'express';
import { buildUpstreamRequest } from '../openapi/request';
import type { ToolSet, UpstreamCredentials, Workspace } from '../types';
import type { ExecuteOptions } from '../upstream/execute';
import type { Authorize } from './access-key';
import { ArgumentValidator } from './arguments';
import { hostOriginGuard } from './request-guard';
import { type BuildRequest, createToolServer, type McpLogger } from './tool-server';

export interface McpRouterDeps {
  getWorkspace(id: string): Workspace | undefined;
  /** The workspace's compiled tools (openapi's ToolCache). */
  getToolSet(ws: Workspace): Promise<ToolSet>;
  credentialsFor(ws: Workspace): UpstreamCredentials;
  /** `undefined` = the request was already answered (401). */
  authorize: Authorize;
  /** Host header values accepted; see `defaultAllowedHosts(port)`. */
  allowedHosts: string[];
  /** Origin header values accepted; default: the allowed hosts over http and https. */
  allowedOrigins?: string[];
  logger: McpLogger;
  /** Turns a call into an HTTP request; default: openapi's `buildUpstreamRequest`. */
  buildRequest?: BuildRequest;
  /** Upstream timeout, size cap and dispatcher. */
  execute?: ExecuteOptions;
  /** Reported as serverInfo.version. */
  version?: string;
}

const WORKSPACE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** An express Router serving `/:workspaceId`; mount it at `/mcp`. */
export function createMcpRouter(deps: McpRouterDeps): Router {
  const validator = new ArgumentValidator();
  const router = Router();
  router.use(
    hostOriginGuard({ allowedHosts: deps.allowedHosts, allowedOrigins: deps.allowedOrigins }),
  );

  router.all('/:workspaceId', async (req: Request, res: Response) => {
    const id = String(req.params.workspaceId);
    const workspace = WORKSPACE_ID.test(id) ? deps.getWorkspace(id) : undefined;
    if (!workspace) {
      rpcError(res, 404, -32001, `Workspace ${id} not found`);
      return;
    }
    const grant = await deps.authorize(req, res, workspace);
    if (!grant) return;
    if (req.method !== 'POST') {
      res.set('Allow', 'POST');
      rpcError(res, 405, -32000, 'Method not allowed: this endpoint is stateless, use POST');
      return;
    }

    const server = createToolServer({
      workspace,
      toolSet: () => deps.getToolSet(workspace),
      credentials: deps.credentialsFor(workspace),
      grantId: grant.grantId,
      validator,
      buildRequest: deps.buildRequest ?? buildUpstreamRequest,
      execute: deps.execute,
      logger: deps.logger,
      serverVersion: deps.version ?? '0.1.0',
    });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      // req.body is set when an outer express.json() already consumed the stream.
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      deps.logger.error({ workspace: workspace.id, err: error }, 'MCP request failed');
      if (!res.headersSent) rpcError(res, 500, -32603, 'Internal error');
    }
  });

  return router;
}

function rpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}
