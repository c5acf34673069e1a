/**
 * The MCP endpoint: `/:workspaceId` speaks Streamable HTTP (MCP SDK 1.x) for one workspace,
 * behind the Host/Origin guard and the workspace's authorization.
 *
 * Sessions, as the transport specifies them: an initialize request creates a session with its own
 * Server and transport and a random `Mcp-Session-Id`; later POSTs, the GET (SSE stream for server
 * messages) and the DELETE (end) of that session go to that pair and no other.
 * - Every request is authorized again, session or not. A session is bound to the workspace and
 *   to the principal that created it (the OAuth grant, else a hash of the credential presented);
 *   the id shown by anyone else, or on another workspace, is answered 404 like an unknown one.
 * - Nothing is shared between sessions or requests, so no response can reach the wrong client
 *   (the SDK's cross-client leak came from one server/transport serving several clients).
 * - The table is bounded (size, per principal, idle time) and closed with the endpoint.
 * A POST without a session id that is not an initialize request is served statelessly, by a
 * Server and transport of its own, closed with the response: clients that never initialize (or
 * drop the session id) still work. GET and DELETE without a session id answer 405.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { buildUpstreamRequest } from '../openapi/request';
import type { ToolSet, UpstreamCredentials, Workspace } from '../types';
import type { ExecuteOptions } from '../upstream/execute';
import type { Authorization, Authorize } from './access-key';
import { ArgumentValidator } from './arguments';
import { replaceAnswerWhen } from './late-answer';
import { hostOriginGuard } from './request-guard';
import { scopesToStepUp, sendInsufficientScope } from './scopes';
import { type McpSession, SessionTable, type SessionTableOptions } from './sessions';
import {
  type BuildRequest,
  createToolServer,
  type McpLogger,
  type ToolServerContext,
  toolsByName,
} from './tool-server';

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
  /** Bounds of the session table (size, per principal, idle time) and its clock. */
  sessions?: SessionTableOptions;
}

/** The MCP endpoint: the router to mount at `/mcp`, and what closes its sessions. */
export interface McpEndpoint {
  router: Router;
  /** Live sessions. */
  readonly sessionCount: number;
  /** Ends every session (their SSE streams included); call before closing the HTTP server. */
  close(): Promise<void>;
}

const WORKSPACE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Largest JSON-RPC request body accepted (tool arguments included). */
const MAX_BODY = '4mb';
const SESSION_HEADER = 'mcp-session-id';

interface Authorized {
  workspace: Workspace;
  grant: Authorization;
}

/** What one HTTP request learned while the MCP server handled it. */
interface RequestState {
  /** A tool call found the OAuth grant ended: answer 401 if the response is not out yet. */
  grantRevoked: boolean;
}

interface Session extends McpSession {
  context: ToolServerContext;
  transport: StreamableHTTPServerTransport;
  /** Requests of this session being answered, its SSE stream included. */
  open: number;
}

/** An express Router serving `/:workspaceId`; mount it at `/mcp`. Prefer `createMcpEndpoint`. */
export function createMcpRouter(deps: McpRouterDeps): Router {
  return createMcpEndpoint(deps).router;
}

/** The MCP endpoint with its session table: mount `router` at `/mcp`, call `close()` on shutdown. */
export function createMcpEndpoint(deps: McpRouterDeps): McpEndpoint {
  const validator = new ArgumentValidator();
  const sessions = new SessionTable<Session>(deps.sessions, (session, why) => {
    deps.logger.debug({ workspace: session.workspaceId, why }, 'MCP session ended');
  });
  const router = Router();
  router.use(
    hostOriginGuard({ allowedHosts: deps.allowedHosts, allowedOrigins: deps.allowedOrigins }),
  );

  const jsonBody = express.json({ limit: MAX_BODY });
  // Per HTTP request, also for sessions whose server was built by an earlier request.
  const requestStates = new AsyncLocalStorage<RequestState>();

  router.all(
    '/:workspaceId',
    async function authorizeWorkspace(req: Request, res: Response, next: NextFunction) {
      const id = String(req.params.workspaceId);
      let workspace: Workspace | undefined;
      let grant: Authorization | undefined;
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
      res.locals.mcp = { workspace, grant } satisfies Authorized;
      next();
    },
    function findSession(req: Request, res: Response, next: NextFunction) {
      const { workspace, grant } = res.locals.mcp as Authorized;
      const sessionId = req.headers[SESSION_HEADER];
      if (typeof sessionId === 'string') {
        const session = sessions.use(sessionId, workspace.id, principalOf(req, grant));
        if (!session) {
          if (sessions.has(sessionId)) {
            deps.logger.warn(
              { workspace: workspace.id },
              'MCP session id presented by another principal or on another workspace',
            );
          }
          rpcError(res, 404, -32001, 'Session not found');
          return;
        }
        session.context.workspace = workspace;
        res.locals.session = session;
      } else if (req.method === 'GET' || req.method === 'DELETE') {
        // No SSE stream or session to end without a session: 405, which sessionless clients expect.
        res.set('Allow', 'POST');
        rpcError(res, 405, -32000, `Method not allowed: ${req.method} needs an Mcp-Session-Id`);
        return;
      } else if (req.method !== 'POST') {
        res.set('Allow', 'GET, POST, DELETE');
        rpcError(res, 405, -32000, 'Method not allowed');
        return;
      }
      next();
    },
    // Parsed only once authorized; req.body stays unset for non-JSON, which the transport answers 415.
    jsonBody,
    async function serveMcp(req: Request, res: Response) {
      const authorized = res.locals.mcp as Authorized;
      const existing = res.locals.session as Session | undefined;
      try {
        if (await refusedForScope(req, res, authorized)) return;
        const handle = async () => {
          if (existing) {
            existing.open++;
            try {
              await existing.transport.handleRequest(req, res, req.body);
            } finally {
              existing.open--;
            }
          } else if (isInitialize(req.body)) {
            await startSession(req, res, authorized, principalOf(req, authorized.grant));
          } else {
            await serveStateless(req, res, authorized);
          }
        };
        const challenge = authorized.grant.invalidTokenChallenge;
        if (challenge === undefined) {
          await handle();
          return;
        }
        // OAuth grants only: the async context costs every request that runs inside one.
        const state: RequestState = { grantRevoked: false };
        replaceAnswerWhen(
          res,
          () => state.grantRevoked,
          () => sendGrantEnded(res, challenge),
        );
        await requestStates.run(state, handle);
      } catch (error) {
        internalError(res, error, authorized.workspace.id);
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

  /**
   * Answers 403 insufficient_scope when an OAuth token lacks the scopes of a tool it calls,
   * before the MCP server (and the upstream) sees the request. tools/list and the rest pass.
   */
  async function refusedForScope(
    req: Request,
    res: Response,
    { workspace, grant }: Authorized,
  ): Promise<boolean> {
    if (grant.scopes === undefined || req.method !== 'POST') return false;
    let toolSet: ToolSet;
    try {
      toolSet = await deps.getToolSet(workspace);
    } catch {
      return false; // The MCP server reports the unusable spec; no upstream call can follow.
    }
    const needed = scopesToStepUp(toolsByName(toolSet), req.body, grant.scopes);
    if (needed === undefined) return false;
    deps.logger.debug(
      { workspace: workspace.id, needed },
      'tool call refused: the token lacks the scope',
    );
    sendInsufficientScope(res, needed, grant.resourceMetadata);
    return true;
  }

  function contextFor({ workspace, grant }: Authorized): ToolServerContext {
    const context: ToolServerContext = {
      workspace,
      toolSet: () => deps.getToolSet(context.workspace),
      credentials: () => deps.credentialsFor(context.workspace),
      grantId: grant.grantId,
      grantRevoked() {
        const state = requestStates.getStore();
        if (state !== undefined) state.grantRevoked = true;
      },
      validator,
      buildRequest: deps.buildRequest ?? buildUpstreamRequest,
      execute: deps.execute,
      logger: deps.logger,
      serverVersion: deps.version ?? '0.1.0',
    };
    return context;
  }

  /** The session exists once the transport has accepted the initialize request and named it. */
  async function startSession(
    req: Request,
    res: Response,
    authorized: Authorized,
    principal: string,
  ) {
    const context = contextFor(authorized);
    const server = createToolServer(context);
    let session: Session | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: newSessionId,
      enableJsonResponse: true,
      onsessioninitialized(id) {
        session = {
          id,
          workspaceId: authorized.workspace.id,
          principal,
          context,
          transport,
          open: 0,
          busy: () => (session?.open ?? 0) > 0,
          close: () => closeQuietly(server, authorized.workspace.id),
        };
        sessions.add(session);
      },
    });
    // DELETE, eviction, expiry and close() all end in the transport's onclose.
    transport.onclose = () => {
      if (session) sessions.remove(session.id);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
    if (!session) await closeQuietly(server, authorized.workspace.id);
  }

  async function serveStateless(req: Request, res: Response, authorized: Authorized) {
    const server = createToolServer(contextFor(authorized));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    // A client gone before its answer: closing the server aborts the handlers' signals, which
    // cancels the upstream call. After a complete answer nothing is left running, and the pair
    // is simply dropped (closing it would only build a "Connection closed" error per request).
    res.on('close', () => {
      if (!res.writableFinished) void closeQuietly(server, authorized.workspace.id);
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }

  async function closeQuietly(server: Server, workspace: string): Promise<void> {
    try {
      await server.close();
    } catch (error) {
      deps.logger.warn({ workspace, err: error }, 'closing an MCP server failed');
    }
  }

  /** The reason goes to the log; the client learns only that the proxy failed. */
  function internalError(res: Response, error: unknown, workspace?: string): void {
    deps.logger.error({ workspace, err: error }, 'MCP request failed');
    if (!res.headersSent) rpcError(res, 500, -32603, 'Internal error');
  }

  return {
    router,
    get sessionCount() {
      return sessions.size;
    },
    close: () => sessions.closeAll(),
  };
}

/** 128 random bits, URL-safe: visible ASCII as the transport spec requires. */
function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Who a session belongs to: the OAuth grant behind the token, else the credential presented
 * (hashed: the table never holds a key), so that only its holder can use the session.
 */
function principalOf(req: Request, grant: Authorization): string {
  if (grant.grantId !== undefined) return `grant:${grant.grantId}`;
  const credential = req.headers.authorization ?? '';
  return `credential:${createHash('sha256').update(credential).digest('base64url')}`;
}

/** A cheap look at the method first: most requests are not initialize. */
function isInitialize(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    (body as { method?: unknown }).method === 'initialize' &&
    isInitializeRequest(body)
  );
}

/** RFC 6750 §3.1: the token's grant ended during the request; the client must authorize again. */
function sendGrantEnded(res: Response, challenge: string): void {
  res
    .status(401)
    .set('WWW-Authenticate', challenge)
    .json({ error: 'invalid_token', error_description: 'authorization required' });
}

function rpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}
