/**
 * startTestServer: the OAuth authorization server (oidc-provider), the demo API, /openapi.json
 * and the control API in one express app on a loopback port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { apiRouter, operationFor } from './api';
import { controlRouter } from './control';
import { FaultTable } from './faults';
import { applyFault, instrumentProvider } from './instrument';
import { interactionRouter } from './interactions';
import { generateSigningKeys } from './keys';
import { buildOpenApi } from './openapi';
import {
  API_SCOPES,
  CLIENT_ID,
  type Mode,
  resolveOptions,
  TEST_USERS,
  type TestServerOptions,
} from './options';
import { createProvider, DEFAULT_AUTHORIZATION_CODE_TTL, type TtlState } from './provider';
import { formatEvent, Recorder, type ServerEvent } from './recorder';
import { MemoryStore } from './store';
import { createTokenVerifier } from './tokens';

export type { TestServerOptions } from './options';

/** How many issued access tokens the control API's revoke can still reach. */
const MAX_TRACKED_TOKENS = 100_000;

export interface RunningTestServer {
  mode: Mode;
  /** http://localhost:<port> */
  url: string;
  port: number;
  /** Same as url: the authorization server's issuer identifier. */
  issuer: string;
  /** <url>/api, the resource (audience) of access tokens. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  controlToken: string;
  /** The static credential of the bearer, apikey and headers modes. */
  apiSecret: string;
  users: Array<{ username: string; password: string }>;
  /** The resolved options, defaults filled in. */
  options: TestServerOptions;
  close(): Promise<void>;
}

/** Thrown when the port cannot be bound; `code` is the system error code (EADDRINUSE …). */
export class ListenError extends Error {
  readonly code: string;
  readonly port: number;
  constructor(code: string, port: number, message: string) {
    super(message);
    this.code = code;
    this.port = port;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const code = err.code ?? 'ELISTEN';
      const message =
        code === 'EADDRINUSE'
          ? `port ${port} is already in use`
          : code === 'EACCES'
            ? `no permission to listen on port ${port}`
            : `cannot listen on ${host}:${port} (${code})`;
      reject(new ListenError(code, port, message));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Starts the test server. Listens on 127.0.0.1 and, when available, ::1 on the same port, so
 * both `localhost` and `127.0.0.1` reach it.
 */
export async function startTestServer(
  input: Partial<TestServerOptions> = {},
): Promise<RunningTestServer> {
  const options = resolveOptions(input);
  const loopback = options.host === '127.0.0.1' || options.host === 'localhost';
  const servers: Server[] = [createServer()];
  const primary = servers[0] as Server;
  const port = await listen(primary, options.port, loopback ? '127.0.0.1' : options.host);
  if (loopback) {
    const v6 = createServer();
    try {
      await listen(v6, port, '::1');
      servers.push(v6);
    } catch {
      // No IPv6 loopback here: 127.0.0.1 alone serves `localhost`.
    }
  }

  try {
    const url = `http://localhost:${port}`;
    const app = buildApp(options, url);
    for (const server of servers) server.on('request', app.handler);
    return {
      mode: options.mode,
      url,
      port,
      issuer: url,
      apiUrl: `${url}/api`,
      clientId: CLIENT_ID,
      clientSecret: options.clientSecret,
      controlToken: options.controlToken,
      apiSecret: options.apiSecret,
      users: TEST_USERS.map(({ username, password }) => ({ username, password })),
      options,
      close: async () => {
        await Promise.all(servers.map(closeServer));
      },
    };
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw err;
  }
}

function buildApp(options: TestServerOptions, url: string): { handler: express.Express } {
  const issuer = url;
  const apiUrl = `${url}/api`;
  const resourceMetadataUrl = `${url}/.well-known/oauth-protected-resource/api`;
  const oauth = options.mode === 'oauth' || options.mode === 'dcr';
  const recorder = new Recorder(
    options.quiet ? {} : { onRecord: (event) => console.log(formatEvent(event)) },
  );
  const faults = new FaultTable();
  const store = new MemoryStore();
  const keys = generateSigningKeys();
  const initialTtl: TtlState = {
    accessToken: options.accessTokenTtl,
    refreshToken: options.refreshTokenTtl,
    authorizationCode: DEFAULT_AUTHORIZATION_CODE_TTL,
  };
  const ttl: TtlState = { ...initialTtl };
  const tokenClients = new Map<string, string>();
  const revokedTokens = new Set<string>();
  const provider = oauth
    ? createProvider({ options, issuer, apiUrl, keys, store, ttl })
    : undefined;

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use(
    '/__control',
    controlRouter({
      controlToken: options.controlToken,
      recorder,
      faults,
      ttl,
      initialTtl,
      state: () => ({
        mode: options.mode,
        issuer,
        accessTokenTtl: ttl.accessToken,
        refreshTokenTtl: ttl.refreshToken,
        authorizationCodeTtl: ttl.authorizationCode,
        tokenFormat: options.tokenFormat,
        autoApprove: options.autoApprove,
      }),
      revokeClient: (clientId) => {
        let revoked = store.revokeClient(clientId);
        for (const [hash, owner] of tokenClients) {
          if (owner === clientId) {
            revokedTokens.add(hash);
            tokenClients.delete(hash);
            revoked += 1;
          }
        }
        return revoked;
      },
    }),
  );

  app.get('/', (_req, res) => {
    res.json({
      name: 'test-server',
      mode: options.mode,
      openapi: `${url}/openapi.json`,
      api: apiUrl,
      ...(oauth
        ? {
            issuer,
            authorization_server_metadata: `${url}/.well-known/oauth-authorization-server`,
            protected_resource_metadata: resourceMetadataUrl,
          }
        : {}),
    });
  });

  app.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApi({ mode: options.mode, url }));
  });

  if (oauth) {
    // RFC 9728 §3: served at the root and at the path-suffixed form for the resource /api.
    const prm = {
      resource: apiUrl,
      authorization_servers: [issuer],
      scopes_supported: [...API_SCOPES],
      bearer_methods_supported: ['header'],
      resource_name: 'Test server demo API',
      resource_documentation: `${url}/openapi.json`,
    };
    app.get(
      ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/api'],
      (_req, res) => {
        res.set('Access-Control-Allow-Origin', '*').json(prm);
      },
    );
  }

  const verifyToken =
    provider &&
    createTokenVerifier({
      issuer,
      audience: apiUrl,
      keys,
      provider,
      isRevoked: (hash) => revokedTokens.has(hash),
    });

  app.use('/api', async (req: Request, res: Response, next: NextFunction) => {
    const path = req.originalUrl.split('?')[0] ?? '';
    const fault = faults.take('api', { path });
    if (!fault) return next();
    try {
      if (fault.kind === 'delay') {
        await applyFault(fault, req, res, true);
        return next();
      }
      const operationId = operationFor(req.method, path.slice('/api'.length));
      if (operationId) recorder.hit(`api:${operationId}`);
      const event: Omit<ServerEvent, 'seq' | 'at'> = {
        kind: 'api',
        method: req.method,
        path,
        status: 0,
        fault_id: fault.id,
      };
      if (fault.kind === 'oauth_error' && fault.error) event.error = fault.error;
      if (fault.kind === 'status') event.error = 'injected_fault';
      res.on('finish', () => recorder.record({ ...event, status: res.statusCode }));
      res.on('close', () => {
        if (!res.writableFinished) recorder.record({ ...event, error: 'connection_dropped' });
      });
      await applyFault(fault, req, res, true);
    } catch (err) {
      next(err);
    }
  });

  app.use(
    '/api',
    apiRouter({
      mode: options.mode,
      apiUrl,
      resourceMetadataUrl,
      apiSecret: options.apiSecret,
      ...(verifyToken ? { verifyToken } : {}),
      onRequest: (e) => {
        recorder.hit(`api:${e.operationId}`);
        recorder.record({
          kind: 'api',
          method: e.method,
          path: e.path,
          status: e.status,
          ...(e.error ? { error: e.error } : {}),
          ...(e.clientId ? { client_id: e.clientId } : {}),
          ...(e.tokenSha256 ? { token_sha256: e.tokenSha256 } : {}),
        });
      },
    }),
  );

  if (provider) {
    app.use(interactionRouter({ provider, apiUrl, autoApprove: options.autoApprove }));
    app.use(
      instrumentProvider({
        recorder,
        faults,
        autoApprove: options.autoApprove,
        onAccessTokenIssued: (hash, clientId) => {
          tokenClients.set(hash, clientId);
          // Bounded memory for long runs: forget the oldest issued tokens first.
          if (tokenClients.size > MAX_TRACKED_TOKENS) {
            const oldest = tokenClients.keys().next().value;
            if (oldest !== undefined) tokenClients.delete(oldest);
          }
        },
      }),
    );
    app.use(provider.callback());
  } else {
    app.use((_req: Request, res: Response) => {
      res.status(404).json({ error: 'not_found', error_description: 'no such route' });
    });
  }

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    console.error(err);
    if (res.headersSent) return;
    res.status(500).json({ error: 'server_error', error_description: 'unexpected server error' });
  });

  return { handler: app };
}
