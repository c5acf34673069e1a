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
import express, { type NextFunction, type Request, type Response, Router } from 'express';
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
/** Largest JSON-RPC request body accepted (tool arguments included). */
const MAX_BODY = '4mb';

interface Authorized {
  workspace: Workspace;
  grant: { grantId?: string };
}

/** An express Router serving `/:workspaceId`; mount it at `/mcp`. */
export function createMcpRouter(deps: McpRouterDeps): Router {
  const validator = new ArgumentValidator();
  const router = Router();
  router.use(
    hostOriginGuard({ allowedHosts: deps.allowedHosts, allowedOrigins: deps.allowedOrigins }),
  );

  const jsonBody = express.json({ limit: MAX_BODY });

  router.all(
    '/:workspaceId',
    async function authorizeWorkspace(req: Request, res: Response, next: NextFunction) {
      const id = String(req.params.workspaceId);
      let workspace: Workspace | undefined;
      let grant: { grantId?: string } | undefined;
      try {
        workspace = WORKSPACE_ID.test(id) ? deps.getWorkspace(id) : undefined;
        if (!workspace) {
          rpcError(res, 404, -32001, `Workspace ${id} not found`);
          return;
        }
        grant = await deps.authorize(req, res, workspace);
      } catch (error) {
        internalError(res, error, id);
        return;
      }
      if (!grant) return;
      if (req.method !== 'POST') {
        res.set('Allow', 'POST');
        rpcError(res, 405, -32000, 'Method not allowed: this endpoint is stateless, use POST');
        return;
      }
      res.locals.mcp = { workspace, grant } satisfies Authorized;
      next();
    },
    // Parsed only once authorized; req.body stays unset for non-JSON, which the transport answers 415.
    jsonBody,
    async function serveMcp(req: Request, res: Response) {
      const { workspace, grant } = res.locals.mcp as Authorized;
      const server = createToolServer({
        workspace,
        toolSet: () => deps.getToolSet(workspace),
        credentials: () => deps.credentialsFor(workspace),
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
      // A client gone before its answer: closing the server aborts the handlers' signals, which
      // cancels the upstream call. After a complete answer nothing is left running, and the pair
      // is simply dropped (closing it would only build a "Connection closed" error per request).
      res.on('close', () => {
        if (!res.writableFinished) void server.close();
      });
      try {
        await server.connect(transport);
        await transport.handleRequest(req, res, req.body);
      } catch (error) {
        internalError(res, error, workspace.id);
      }
    },
  );

  router.use(function bodyErrors(
    error: unknown,
    _req: Request,
    res: Response,
    _next: NextFunction,
  ) {
    const type = (error as { type?: unknown } | undefined)?.type;
    if (type === 'entity.parse.failed') rpcError(res, 400, -32700, 'Parse error: invalid JSON');
    else if (type === 'entity.too.large') rpcError(res, 413, -32600, 'Request body too large');
    else internalError(res, error);
  });

  /** The reason goes to the log; the client learns only that the proxy failed. */
  function internalError(res: Response, error: unknown, workspace?: string): void {
    deps.logger.error({ workspace, err: error }, 'MCP request failed');
    if (!res.headersSent) rpcError(res, 500, -32603, 'Internal error');
  }

  return router;
}

function rpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}
