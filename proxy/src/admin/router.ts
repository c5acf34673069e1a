/**
 * The admin HTTP API (mount at `/admin`): workspaces, their spec, tools and upstream auth. Every
 * request needs `Authorization: Bearer <admin token>`. Bodies are checked with ajv (400 naming
 * each field); secrets are never sent back, only masked; a generated access key is shown once.
 */
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from 'express';
import type { Logger } from 'pino';
import { SpecError } from '../openapi';
import type { SpecSource, Workspace } from '../types';
import {
  checkAuth,
  checkDefinition,
  checkPatch,
  checkToolSelection,
  maskWorkspace,
  type Problem,
  type SpecInput,
  toSpecSource,
  WorkspaceError,
  type WorkspaceService,
} from '../workspaces';
import type { AdminToken } from './token';

export interface AdminRouterDeps {
  service: WorkspaceService;
  adminToken: Pick<AdminToken, 'verify'>;
  /** Used to show each workspace's MCP URL. */
  publicUrl: string;
  logger: Logger;
  /** Largest spec upload in bytes. Default 20 MiB. */
  maxSpecBytes?: number;
}

/** RFC 6750 §2.1 bearer syntax. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const YAML_TYPES = [
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/x-yaml',
  'text/plain',
];

/** The admin API router. */
export function createAdminRouter(deps: AdminRouterDeps): Router {
  const { service, publicUrl } = deps;
  const router = Router();
  const maxSpecBytes = deps.maxSpecBytes ?? 20 * 1024 * 1024;

  router.use(requireAdminToken(deps.adminToken));
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  const json = express.json({ limit: '1mb' });
  const view = (workspace: Workspace) => workspaceView(workspace, publicUrl);

  router.get('/workspaces', (_req, res) => {
    res.json({ workspaces: service.list().map(view) });
  });

  router.post('/workspaces', json, (req, res) => {
    const definition = checkDefinition(req.body);
    const spec = remoteSpec(definition.spec);
    const created = service.create({ ...definition, spec }, process.cwd());
    res
      .status(201)
      .location(`${req.baseUrl}/workspaces/${created.workspace.id}`)
      .json({
        ...view(created.workspace),
        ...(created.generatedAccessKey === undefined
          ? {}
          : { accessKey: created.generatedAccessKey, accessKeyShownOnce: true }),
      });
  });

  router.get('/workspaces/:id', (req, res) => {
    res.json(view(service.get(param(req))));
  });

  router.patch('/workspaces/:id', json, async (req, res) => {
    const { spec, ...rest } = checkPatch(req.body);
    // A new spec is compiled before it is kept, as with PUT …/spec.
    if (spec !== undefined) {
      await service.setSpec(param(req), toSpecSource(remoteSpec(spec), process.cwd()));
    }
    const workspace =
      Object.keys(rest).length > 0
        ? service.update(param(req), rest, process.cwd())
        : service.get(param(req));
    res.json(view(workspace));
  });

  router.delete('/workspaces/:id', (req, res) => {
    service.delete(param(req));
    res.status(204).end();
  });

  router.put(
    '/workspaces/:id/spec',
    express.json({ limit: maxSpecBytes }),
    express.text({ type: YAML_TYPES, limit: maxSpecBytes }),
    async (req, res) => {
      const { workspace, toolSet } = await service.setSpec(param(req), uploadedSpec(req.body));
      res.json({
        workspace: view(workspace),
        tools: toolSet.tools.length,
        skipped: toolSet.skipped,
        notes: toolSet.notes,
      });
    },
  );

  router.get('/workspaces/:id/tools', async (req, res) => {
    res.json(await service.listTools(param(req)));
  });

  router.put('/workspaces/:id/tools', json, async (req, res) => {
    const selection = checkToolSelection(req.body);
    await service.setTools(param(req), selection);
    res.json(await service.listTools(param(req)));
  });

  router.post('/workspaces/:id/tools/enable', json, async (req, res) => {
    await service.enableTools(param(req), toolNames(req.body, true));
    res.json(await service.listTools(param(req)));
  });

  router.post('/workspaces/:id/tools/disable', json, async (req, res) => {
    const names = toolNames(req.body, false);
    await service.disableTools(param(req), names === 'all' ? [] : names);
    res.json(await service.listTools(param(req)));
  });

  router.put('/workspaces/:id/auth', json, (req, res) => {
    res.json(view(service.setAuth(param(req), checkAuth(req.body, 'auth'))));
  });

  router.post('/workspaces/:id/access-key', (req, res) => {
    const { workspace, accessKey } = service.rotateAccessKey(param(req));
    res.json({ ...view(workspace), accessKey, accessKeyShownOnce: true });
  });

  router.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'no such admin endpoint' });
  });
  router.use(errorHandler(deps.logger));
  return router;
}

/** 401 unless the request carries the admin token as a bearer token. */
function requireAdminToken(token: Pick<AdminToken, 'verify'>): RequestHandler {
  return function checkAdminToken(req, res, next) {
    const header = req.headers.authorization;
    const presented = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (presented !== undefined && token.verify(presented)) {
      next();
      return;
    }
    res
      .status(401)
      .set(
        'WWW-Authenticate',
        header === undefined
          ? 'Bearer realm="proxy-admin"'
          : 'Bearer realm="proxy-admin", error="invalid_token"',
      )
      .json({ error: 'unauthorized', message: 'a valid admin token is required' });
  };
}

function param(req: Request): string {
  return String(req.params.id);
}

/** A workspace as the API shows it: secrets masked, an uploaded document summarized. */
export function workspaceView(workspace: Workspace, publicUrl: string): Record<string, unknown> {
  const masked = maskWorkspace(workspace);
  const spec =
    masked.spec.kind === 'document'
      ? { kind: 'document', bytes: Buffer.byteLength(masked.spec.text) }
      : masked.spec;
  return {
    ...masked,
    spec,
    mcpUrl: `${publicUrl.replace(/\/+$/, '')}/mcp/${workspace.id}`,
  };
}

/** Over HTTP a spec is a URL or an uploaded document: never a path on the proxy's disk. */
function remoteSpec(spec: SpecInput): SpecInput {
  const source = toSpecSource(spec, process.cwd());
  if (source.kind === 'file') {
    throw invalid([
      {
        field: 'spec',
        message:
          'file paths are not accepted over the admin API; give an http(s) URL or upload the document',
      },
    ]);
  }
  return spec;
}

function uploadedSpec(body: unknown): SpecSource {
  if (typeof body === 'string' && body.trim() !== '') return { kind: 'document', text: body };
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const keys = Object.keys(body);
    const url = (body as { url?: unknown }).url;
    if (keys.length === 1 && typeof url === 'string' && /^https?:\/\//i.test(url)) {
      return { kind: 'url', url };
    }
    if (keys.length > 0) return { kind: 'document', text: JSON.stringify(body) };
  }
  throw invalid([
    {
      field: '',
      message:
        'send the OpenAPI document as the body (application/json or application/yaml), or {"url": "https://…"}',
    },
  ]);
}

function toolNames(body: unknown, allowAll: boolean): string[] | 'all' {
  const tools = (body as { tools?: unknown } | undefined)?.tools;
  if (allowAll && tools === 'all') return 'all';
  if (
    Array.isArray(tools) &&
    tools.length > 0 &&
    tools.every((t) => typeof t === 'string' && t !== '')
  ) {
    return tools as string[];
  }
  throw invalid([
    {
      field: 'tools',
      message: allowAll
        ? 'must be "all" or a non-empty list of tool names'
        : 'must be a non-empty list of tool names',
    },
  ]);
}

function invalid(problems: Problem[]): WorkspaceError {
  return new WorkspaceError('ERR_WORKSPACE_INVALID', 'invalid request', problems);
}

const STATUS: Record<WorkspaceError['code'], number> = {
  ERR_WORKSPACE_NOT_FOUND: 404,
  ERR_WORKSPACE_EXISTS: 409,
  ERR_WORKSPACE_INVALID: 400,
  ERR_UNKNOWN_TOOLS: 400,
};

const ERROR_NAME: Record<WorkspaceError['code'], string> = {
  ERR_WORKSPACE_NOT_FOUND: 'not_found',
  ERR_WORKSPACE_EXISTS: 'conflict',
  ERR_WORKSPACE_INVALID: 'invalid_request',
  ERR_UNKNOWN_TOOLS: 'invalid_request',
};

/** One place turning errors into answers; unknown failures are logged and reported as 500. */
function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (error instanceof WorkspaceError) {
      res.status(STATUS[error.code]).json({
        error: ERROR_NAME[error.code],
        code: error.code,
        message:
          error.problems.length > 0
            ? `${error.message}: ${error.problems.map((p) => `${p.field || '(body)'} ${p.message}`).join('; ')}`
            : error.message,
        ...(error.problems.length > 0 ? { errors: error.problems } : {}),
      });
      return;
    }
    if (error instanceof SpecError) {
      res.status(422).json({
        error: 'invalid_spec',
        code: error.code,
        pointer: error.pointer,
        message: error.message,
      });
      return;
    }
    const status = (error as { status?: unknown; type?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // body-parser's own errors: malformed JSON, too large, unsupported charset.
      res.status(status).json({
        error: 'invalid_request',
        message: status === 413 ? 'the body is too large' : 'the body could not be parsed',
      });
      return;
    }
    logger.error({ err: error, method: req.method, url: req.originalUrl }, 'admin request failed');
    res.status(500).json({ error: 'server_error', message: 'internal error' });
  };
}
