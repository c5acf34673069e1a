/**
 * The `proxy` command line: serve (`proxy --config <file>`), preview a spec's tools (`proxy tools`)
 * and manage workspaces in a data dir (`proxy workspace …`). Exit codes: 0 done, 1 runtime
 * failure, 2 usage error. Errors print as one line, never a stack trace.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import pino from 'pino';
import { AdminTokenError, resetAdminToken } from './admin';
import { runToolsCommand } from './commands/tools';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './log';
import { SpecError } from './openapi';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  ListenError,
  type RunningProxy,
  startProxy,
} from './server';
import { openStore, type ProxyStore, StoreError } from './store';
import type { Workspace } from './types';
import {
  type AuthInput,
  checkDefinition,
  formatProblems,
  isToolEnabled,
  maskWorkspace,
  type ToolListing,
  WorkspaceError,
  WorkspaceService,
  WorkspaceToolSets,
} from './workspaces';

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

/** A mistake in how the command was called: exit code 2, with the usage of that command. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly usage: string;

  constructor(message: string, usage: string) {
    super(message);
    this.usage = usage;
  }
}

export const MAIN_USAGE = `Usage: proxy [--config <file>] [options]      serve workspaces over MCP
       proxy tools <spec url or file> [--json]   preview the tools a spec yields
       proxy workspace <command> …               manage workspaces in the data dir
       proxy admin-token --reset                 replace the admin API token

Serve options:
  -c, --config <file>      workspaces (and server settings) in JSON or YAML, \${ENV} expanded
  -p, --port <n>           port to listen on (default ${DEFAULT_PORT})
      --host <host>        address to listen on (default localhost)
      --data-dir <dir>     where the store lives (default ${DEFAULT_DATA_DIR})
      --public-url <url>   the URL MCP clients use (default http://localhost:<port>)
      --allowed-host <h>   Host header accepted on /mcp (repeatable; default loopback names)
      --allow-private-networks  let spec URLs point at private address ranges (loopback is
                           always allowed)
      --log-level <level>  fatal, error, warn, info, debug, trace or silent (default info)
      --token-ttl <s>      lifetime of the proxy's access tokens for MCP clients (default 3600)
      --refresh-token-ttl <s>  lifetime of its refresh tokens (default 2592000, 30 days)
      --code-ttl <s>       lifetime of its authorization codes (default 60)
      --flow-ttl <s>       how long an authorization may take, consent to upstream callback
                           (the upstream state's lifetime; default 600)
      --refresh-grace <s>  how long a rotated refresh token may be replayed (default 10)
  -h, --help               show this help

Environment:
  PROXY_ENCRYPTION_KEY     32 bytes (base64 or hex) encrypting secrets at rest; default: a key
                           file <data-dir>/encryption.key created with mode 0600
  PROXY_ADMIN_TOKEN        bearer token for /admin; default: generated once and printed once

Examples:
  TEST_SERVER_API_SECRET=tk_dev npx tsx proxy --config fixtures/workspaces/bearer.yaml
  npx tsx proxy tools http://localhost:3456/openapi.json
  npx tsx proxy workspace list
`;

export const WORKSPACE_USAGE = `Usage: proxy workspace <command> [options] [--data-dir <dir>]

Commands:
  create --file <config>                 create the workspaces of a config file (\${ENV} expanded)
  create --name <name> --spec <url|file> [--id <id>] [--base-url <url>] [--public]
         [--auth none|bearer|apikey|headers] [--token <t>] [--api-key <k>]
         [--api-key-header <name>] [--header "Name: value"]…
                                         create one workspace; prints its access key once
  list [--json]                          list workspaces (secrets masked)
  tools <id> [--json]                    the tools a workspace's spec yields, and which are on
  enable <id> <tool>… | --all            turn tools on
  disable <id> <tool>…                   turn tools off
  delete <id>                            delete a workspace
  access-key <id> [--rotate]             print (or replace) the key MCP clients present

Options:
  --data-dir <dir>   the proxy's data dir (default ${DEFAULT_DATA_DIR})
  -h, --help         show this help
`;

export const ADMIN_TOKEN_USAGE = `Usage: proxy admin-token --reset [--data-dir <dir>]

Replaces the stored admin API token with a new one and prints it once. Restart a running proxy
to use it. Not needed when PROXY_ADMIN_TOKEN is set.
`;

/** Runs the CLI. Resolves the exit code, or `undefined` while a server keeps running. */
export async function runCli(argv: string[], io: CliIo = process): Promise<number | undefined> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case 'tools':
        return await runToolsCommand(rest, io);
      case 'workspace':
      case 'workspaces':
        return await workspaceCommand(rest, io);
      case 'admin-token':
        return adminTokenCommand(rest, io);
      case 'help':
        io.stdout.write(MAIN_USAGE);
        return 0;
      case 'serve':
        return await serveCommand(rest, io);
      default:
        if (command !== undefined && !command.startsWith('-')) {
          throw new UsageError(`unknown command "${command}"`, MAIN_USAGE);
        }
        return await serveCommand(argv, io);
    }
  } catch (error) {
    return reportError(error, io);
  }
}

/** Prints an error as people should see it and returns the exit code. */
export function reportError(error: unknown, io: Pick<CliIo, 'stderr'>): number {
  if (error instanceof UsageError) {
    const [synopsis] = error.usage.split('\n');
    io.stderr.write(`proxy: ${error.message}\n${synopsis}\nRun it with --help for details.\n`);
    return 2;
  }
  if (
    error instanceof WorkspaceError &&
    error.code === 'ERR_WORKSPACE_INVALID' &&
    error.problems.length > 0
  ) {
    io.stderr.write(`${formatProblems(`proxy: ${error.message}:`, error.problems)}\n`);
    return 1;
  }
  if (error instanceof SpecError) {
    const at = error.pointer === '' ? '' : ` (at ${error.pointer})`;
    io.stderr.write(`proxy: the spec cannot be used${at}: ${error.message}\n`);
    return 1;
  }
  const known =
    error instanceof ConfigError ||
    error instanceof StoreError ||
    error instanceof WorkspaceError ||
    error instanceof AdminTokenError ||
    error instanceof ListenError;
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`proxy: ${known ? message : `unexpected error: ${message}`}\n`);
  return 1;
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), usage);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

async function serveCommand(argv: string[], io: CliIo): Promise<number | undefined> {
  const { values, positionals } = parse(
    argv,
    {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'public-url': { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      'allow-private-networks': { type: 'boolean' },
      'log-level': { type: 'string' },
      'token-ttl': { type: 'string' },
      'refresh-token-ttl': { type: 'string' },
      'code-ttl': { type: 'string' },
      'flow-ttl': { type: 'string' },
      'refresh-grace': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    MAIN_USAGE,
  );
  if (values.help) {
    io.stdout.write(MAIN_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`, MAIN_USAGE);
  }
  const port = values.port === undefined ? undefined : portNumber(values.port);
  if (values['public-url'] !== undefined && !/^https?:\/\/[^/]+/i.test(values['public-url'])) {
    throw new UsageError('--public-url must be an http:// or https:// URL', MAIN_USAGE);
  }
  const level = values['log-level'] ?? io.env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, MAIN_USAGE);
  }
  const oauthLifetimes = {
    accessToken: seconds('token-ttl', values['token-ttl'], 1),
    refreshToken: seconds('refresh-token-ttl', values['refresh-token-ttl'], 1),
    code: seconds('code-ttl', values['code-ttl'], 1),
    flow: seconds('flow-ttl', values['flow-ttl'], 1),
    refreshGrace: seconds('refresh-grace', values['refresh-grace'], 0),
  };
  const config =
    values.config === undefined ? undefined : loadConfig(values.config, { env: io.env });
  // Logs go to stderr so that stdout carries only what people read: the banner.
  const logger = createLogger({ level, destination: pino.destination({ fd: 2, sync: false }) });
  const proxy = await startProxy({
    ...(config === undefined ? {} : { config }),
    ...(port === undefined ? {} : { port }),
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    ...(values['public-url'] === undefined ? {} : { publicUrl: values['public-url'] }),
    ...(values['allowed-host'] === undefined ? {} : { allowedHosts: values['allowed-host'] }),
    ...(values['allow-private-networks'] ? { fetchLimits: { allowPrivateNetworks: true } } : {}),
    oauthLifetimes,
    encryptionKey: io.env.PROXY_ENCRYPTION_KEY,
    adminToken: io.env.PROXY_ADMIN_TOKEN,
    logger,
    handleSignals: true,
  });
  io.stdout.write(banner(proxy));
  return undefined;
}

/** What a person needs after `proxy --config …`: the URLs, and secrets generated just now. */
function banner(proxy: RunningProxy): string {
  const lines = [`MCP proxy listening on ${proxy.url}  (data dir: ${proxy.store.dataDir})`, ''];
  const workspaces = proxy.service.list();
  if (workspaces.length === 0) {
    lines.push(
      'No workspaces yet: start with --config <file>, or use the admin API or `proxy workspace create`.',
    );
  }
  for (const workspace of workspaces) {
    lines.push(
      `  ${workspace.id}  ${proxy.url}/mcp/${workspace.id}  (${describeAccess(workspace)})`,
    );
    const key = proxy.generatedAccessKeys[workspace.id];
    if (key !== undefined) {
      lines.push(`      access key (shown once): ${key}`);
      lines.push(
        `      npx -y mcp-remote ${proxy.url}/mcp/${workspace.id} --header "Authorization: Bearer ${key}"`,
      );
    }
  }
  lines.push('');
  if (proxy.adminToken !== undefined) {
    lines.push(
      `Admin API token (shown once; keep it, or set PROXY_ADMIN_TOKEN): ${proxy.adminToken}`,
    );
    lines.push(`  curl -H "Authorization: Bearer <token>" ${proxy.url}/admin/workspaces`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function describeAccess(workspace: Workspace): string {
  if (workspace.auth.type === 'oauth2') return 'OAuth: MCP clients authorize in the browser';
  if (workspace.public) return 'public';
  return 'access key; print it with `proxy workspace access-key <id>`';
}

function portNumber(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535 (got "${text}")`, MAIN_USAGE);
  }
  return port;
}

/** A duration flag in whole seconds, at least `min`; undefined when the flag is absent. */
function seconds(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min) {
    throw new UsageError(
      `--${flag} must be a whole number of seconds, at least ${min} (got "${text}")`,
      MAIN_USAGE,
    );
  }
  return value;
}

function adminTokenCommand(argv: string[], io: CliIo): number {
  const { values, positionals } = parse(
    argv,
    {
      reset: { type: 'boolean' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    ADMIN_TOKEN_USAGE,
  );
  if (values.help) {
    io.stdout.write(ADMIN_TOKEN_USAGE);
    return 0;
  }
  if (!values.reset || positionals.length > 0) {
    throw new UsageError('use `proxy admin-token --reset`', ADMIN_TOKEN_USAGE);
  }
  return withStore(values['data-dir'], io, (store) => {
    const { generated } = resetAdminToken(store.settings);
    io.stdout.write(`${generated}\n`);
    return 0;
  });
}

function withStore<T>(dataDir: string | undefined, io: CliIo, use: (store: ProxyStore) => T): T {
  const store = openStore({
    dataDir: dataDir ?? DEFAULT_DATA_DIR,
    encryptionKey: io.env.PROXY_ENCRYPTION_KEY,
  });
  let result: T;
  try {
    result = use(store);
  } catch (error) {
    store.close();
    throw error;
  }
  if (result instanceof Promise) {
    return result.finally(() => store.close()) as T;
  }
  store.close();
  return result;
}

async function workspaceCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      file: { type: 'string', short: 'f' },
      name: { type: 'string' },
      id: { type: 'string' },
      spec: { type: 'string' },
      'base-url': { type: 'string' },
      public: { type: 'boolean' },
      auth: { type: 'string' },
      token: { type: 'string' },
      'api-key': { type: 'string' },
      'api-key-header': { type: 'string' },
      header: { type: 'string', multiple: true },
      all: { type: 'boolean' },
      rotate: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    WORKSPACE_USAGE,
  );
  const [command, ...args] = positionals;
  if (values.help || command === undefined) {
    if (values.help) {
      io.stdout.write(WORKSPACE_USAGE);
      return 0;
    }
    throw new UsageError('missing workspace command', WORKSPACE_USAGE);
  }
  const needId = (): string => {
    const [id, ...more] = args;
    if (id === undefined)
      throw new UsageError(`workspace ${command}: missing workspace id`, WORKSPACE_USAGE);
    if (more.length > 0 && command !== 'enable' && command !== 'disable') {
      throw new UsageError(
        `workspace ${command}: unexpected argument "${more[0]}"`,
        WORKSPACE_USAGE,
      );
    }
    return id;
  };
  const noArgs = () => {
    if (args.length > 0) {
      throw new UsageError(
        `workspace ${command}: unexpected argument "${args[0]}"`,
        WORKSPACE_USAGE,
      );
    }
  };

  return withStore(values['data-dir'], io, async (store) => {
    const service = new WorkspaceService({ store, toolSets: new WorkspaceToolSets() });
    switch (command) {
      case 'create': {
        noArgs();
        return createWorkspaces(service, values, io);
      }
      case 'list': {
        noArgs();
        const workspaces = service.list().map(maskWorkspace);
        if (values.json) io.stdout.write(`${JSON.stringify(workspaces, null, 2)}\n`);
        else if (workspaces.length === 0) io.stdout.write('no workspaces\n');
        else {
          for (const w of workspaces) {
            const tools =
              w.tools.enabled === 'all'
                ? `all tools${w.tools.disabled.length > 0 ? ` but ${w.tools.disabled.join(', ')}` : ''}`
                : `tools: ${w.tools.enabled.join(', ') || '(none)'}`;
            io.stdout.write(
              `${w.id}\t${w.name}\t${w.auth.type}${w.public ? ', public' : ''}\t${tools}\n`,
            );
          }
        }
        return 0;
      }
      case 'tools': {
        const listing = await service.listTools(needId());
        io.stdout.write(
          values.json ? `${JSON.stringify(listing, null, 2)}\n` : formatListing(listing),
        );
        return 0;
      }
      case 'enable': {
        const id = needId();
        const names = args.slice(1);
        if (Boolean(values.all) === names.length > 0) {
          throw new UsageError('workspace enable: give tool names, or --all', WORKSPACE_USAGE);
        }
        const workspace = await service.enableTools(id, values.all ? 'all' : names);
        io.stdout.write(selectionLine(workspace));
        return 0;
      }
      case 'disable': {
        const id = needId();
        const names = args.slice(1);
        if (names.length === 0)
          throw new UsageError('workspace disable: give tool names', WORKSPACE_USAGE);
        const workspace = await service.disableTools(id, names);
        io.stdout.write(selectionLine(workspace));
        return 0;
      }
      case 'delete': {
        const id = needId();
        service.delete(id);
        io.stdout.write(`deleted workspace ${id}\n`);
        return 0;
      }
      case 'access-key': {
        const id = needId();
        if (values.rotate) {
          io.stdout.write(`${service.rotateAccessKey(id).accessKey}\n`);
          return 0;
        }
        const workspace = service.get(id);
        if (workspace.accessKey === undefined) {
          throw new WorkspaceError(
            'ERR_WORKSPACE_INVALID',
            `workspace "${id}" has no access key (${workspace.auth.type === 'oauth2' ? 'it uses OAuth' : 'it is public'})`,
          );
        }
        io.stdout.write(`${workspace.accessKey}\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown workspace command "${command}"`, WORKSPACE_USAGE);
    }
  });
}

interface CreateFlags {
  file?: string;
  name?: string;
  id?: string;
  spec?: string;
  'base-url'?: string;
  public?: boolean;
  auth?: string;
  token?: string;
  'api-key'?: string;
  'api-key-header'?: string;
  header?: string[];
}

async function createWorkspaces(
  service: WorkspaceService,
  flags: CreateFlags,
  io: CliIo,
): Promise<number> {
  if (flags.file !== undefined) {
    if (flags.name !== undefined || flags.spec !== undefined) {
      throw new UsageError('workspace create: use either --file or --name/--spec', WORKSPACE_USAGE);
    }
    const config = loadConfig(flags.file, { env: io.env });
    for (const definition of config.workspaces) {
      const created = service.create(definition, config.baseDir);
      reportCreated(created.workspace, created.generatedAccessKey, io);
    }
    return 0;
  }
  if (flags.name === undefined || flags.spec === undefined) {
    throw new UsageError(
      'workspace create: --name and --spec are required (or --file)',
      WORKSPACE_USAGE,
    );
  }
  const definition = checkDefinition({
    name: flags.name,
    spec: flags.spec,
    ...(flags.id === undefined ? {} : { id: flags.id }),
    ...(flags['base-url'] === undefined ? {} : { baseUrl: flags['base-url'] }),
    ...(flags.public ? { public: true } : {}),
    auth: authFromFlags(flags),
  });
  const created = await service.createChecked(definition, process.cwd());
  reportCreated(created.workspace, created.generatedAccessKey, io);
  return 0;
}

function authFromFlags(flags: CreateFlags): AuthInput | Record<string, unknown> {
  const type = flags.auth ?? 'none';
  const stray = (allowed: (keyof CreateFlags)[]) => {
    for (const flag of ['token', 'api-key', 'api-key-header', 'header'] as const) {
      if (flags[flag] !== undefined && !allowed.includes(flag)) {
        throw new UsageError(
          `workspace create: --${flag} does not apply to --auth ${type}`,
          WORKSPACE_USAGE,
        );
      }
    }
  };
  switch (type) {
    case 'none':
      stray([]);
      return { type: 'none' };
    case 'bearer':
      stray(['token']);
      return { type: 'bearer', token: required(flags.token, '--token', type) };
    case 'apikey':
    case 'apiKey':
      stray(['api-key', 'api-key-header']);
      return {
        type: 'apiKey',
        value: required(flags['api-key'], '--api-key', type),
        ...(flags['api-key-header'] === undefined ? {} : { header: flags['api-key-header'] }),
      };
    case 'headers': {
      stray(['header']);
      required(flags.header?.[0], '--header', type);
      const headers: Record<string, string> = {};
      for (const line of flags.header ?? []) {
        const colon = line.indexOf(':');
        if (colon <= 0) {
          throw new UsageError(
            `workspace create: --header must be "Name: value" (got "${line}")`,
            WORKSPACE_USAGE,
          );
        }
        headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      return { type: 'headers', headers };
    }
    default:
      throw new UsageError(
        `workspace create: --auth must be none, bearer, apikey or headers (OAuth: use --file)`,
        WORKSPACE_USAGE,
      );
  }
}

function required(value: string | undefined, flag: string, type: string): string {
  if (value === undefined || value === '') {
    throw new UsageError(`workspace create: --auth ${type} needs ${flag}`, WORKSPACE_USAGE);
  }
  return value;
}

function reportCreated(workspace: Workspace, accessKey: string | undefined, io: CliIo): void {
  io.stdout.write(`created workspace ${workspace.id}\n`);
  if (accessKey !== undefined) io.stdout.write(`access key (shown once): ${accessKey}\n`);
}

function selectionLine(workspace: Workspace): string {
  const { enabled, disabled } = workspace.tools;
  if (enabled === 'all') {
    return disabled.length === 0
      ? `${workspace.id}: all tools enabled\n`
      : `${workspace.id}: all tools enabled except ${disabled.join(', ')}\n`;
  }
  return `${workspace.id}: enabled ${enabled.filter((n) => isToolEnabled(workspace.tools, n)).join(', ') || '(none)'}\n`;
}

function formatListing(listing: ToolListing): string {
  const lines = [`${listing.title} ${listing.version}  (${listing.baseUrl ?? 'no base URL'})`];
  const width = Math.max(4, ...listing.tools.map((t) => t.name.length));
  for (const tool of listing.tools) {
    lines.push(
      `  [${tool.enabled ? 'x' : ' '}] ${tool.name.padEnd(width)}  ${tool.method} ${tool.path}`,
    );
  }
  if (listing.skipped.length > 0) {
    lines.push('', 'Skipped operations:');
    for (const skip of listing.skipped) {
      lines.push(`  ${skip.method.toUpperCase()} ${skip.path}: ${skip.reason}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
