/**
 * Command-line parsing for `npm run conformance -- …`: flags to a validated configuration, with
 * every mistake reported as a UsageError (exit status 2) naming the flag.
 */
import { parseArgs } from 'node:util';
import { shellQuote } from './property';
import { allChecks, suiteNames } from './suites/index';
import type { AsTarget } from './types';

export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  override name = 'UsageError';
}

export interface CliConfig {
  help: boolean;
  list: boolean;
  selfContained: boolean;
  proxy: string[];
  upstream?: string;
  controlToken?: string;
  as?: AsTarget;
  tool: string;
  stateTtl?: number;
  refreshGrace?: number;
  suites: string[];
  checks: string[];
  seed: number;
  seedGiven: boolean;
  runs: number;
  path?: string;
  timeoutMs: number;
  reportDir: string;
  quiet: boolean;
}

const FLAGS = {
  proxy: { type: 'string', multiple: true },
  upstream: { type: 'string' },
  'control-token': { type: 'string' },
  as: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-auth': { type: 'string' },
  'redirect-uri': { type: 'string' },
  scope: { type: 'string' },
  resource: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  tool: { type: 'string' },
  'proxy-state-ttl': { type: 'string' },
  'refresh-grace': { type: 'string' },
  suite: { type: 'string', multiple: true },
  check: { type: 'string', multiple: true },
  seed: { type: 'string' },
  runs: { type: 'string' },
  path: { type: 'string' },
  timeout: { type: 'string' },
  'report-dir': { type: 'string' },
  'self-contained': { type: 'boolean' },
  list: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const HELP = `Usage: npm run conformance -- [targets] [selection] [options]

Black-box conformance suites for MCP OAuth proxies and OAuth authorization servers.

Targets
  --self-contained          start our own test server (and proxy, when available) on free ports
  --proxy <mcp-url>         MCP endpoint of the proxy under test, e.g. http://localhost:8080/mcp/test-oauth;
                            repeat with a second workspace's URL of the same proxy for cross-workspace checks
  --upstream <url>          the instrumented upstream (our test server) the proxy uses, e.g. http://localhost:3456
  --control-token <t>       bearer token of the upstream's /__control API (env CONFORMANCE_CONTROL_TOKEN)
  --as <issuer>             an authorization server to run the as-* suites against (exact issuer)
  --client-id <id>          client registered at --as
  --client-secret <s>       its secret (env CONFORMANCE_CLIENT_SECRET); omit for a public client
  --client-auth <m>         basic | post | none (default basic with a secret, none without)
  --redirect-uri <uri>      a redirect URI registered for the client (default http://localhost:8080/oauth/callback);
                            the harness's user agent stops there, nothing needs to listen
  --scope <s>               scope to request (default: openid offline_access items:read, those the AS lists)
  --resource <uri>          RFC 8707 resource to request from --as
  --username <u>            login form user at the authorization server (default alice)
  --password <p>            its password (default alice-pass; env CONFORMANCE_PASSWORD)
  --tool <name>             MCP tool that makes the proxy call the upstream API (default listItems)
  --proxy-state-ttl <s>     the proxy's upstream state lifetime, enables the expired-state check
  --refresh-grace <s>       the proxy's refresh-token replay grace window (default 0)

Selection
  --suite <name>            run one suite (repeatable); a group prefix works too: --suite as, --suite proxy
  --check <id>              run one check (repeatable)
  --list                    list suites and checks, then exit

Options
  --seed <n>                fast-check seed (default: random, printed in the reports)
  --runs <n>                maximum cases per property (default 100; slow flows cap lower)
  --path <p>                replay one counterexample path (with --seed and --check)
  --timeout <ms>            per-check timeout (default 120000)
  --report-dir <dir>        where the reports go (default reports/)
  --quiet                   print only the Markdown summary
  -h, --help                this help

Exit status: 0 when no MUST check failed, 1 when one did, 2 for usage errors.
`;

function positiveInt(flag: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function httpUrl(flag: string, value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new UsageError(`--${flag} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

function clientAuth(value: string | undefined, secret: string | undefined): AsTarget['clientAuth'] {
  if (value === undefined) return secret ? 'client_secret_basic' : 'none';
  const methods: Record<string, AsTarget['clientAuth']> = {
    basic: 'client_secret_basic',
    post: 'client_secret_post',
    none: 'none',
    client_secret_basic: 'client_secret_basic',
    client_secret_post: 'client_secret_post',
  };
  const method = methods[value];
  if (!method)
    throw new UsageError(`--client-auth must be basic, post or none, got ${JSON.stringify(value)}`);
  if (method !== 'none' && !secret)
    throw new UsageError(`--client-auth ${value} needs --client-secret`);
  return method;
}

/** Parses argv (without node and script) into a configuration; throws UsageError on mistakes. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliConfig {
  let values: ReturnType<
    typeof parseArgs<{ options: typeof FLAGS; strict: true; allowPositionals: false }>
  >['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const suites = values.suite ?? [];
  const known = suiteNames();
  for (const suite of suites) {
    if (!known.some((k) => k === suite || k.startsWith(`${suite}-`))) {
      throw new UsageError(`unknown --suite ${JSON.stringify(suite)}; suites: ${known.join(', ')}`);
    }
  }
  const checks = values.check ?? [];
  for (const id of checks) {
    if (!allChecks.some((c) => c.id === id))
      throw new UsageError(`unknown --check ${JSON.stringify(id)} (see --list)`);
  }
  const proxy = (values.proxy ?? []).map((u) => httpUrl('proxy', u));
  const upstream = values.upstream !== undefined ? httpUrl('upstream', values.upstream) : undefined;
  const controlToken = values['control-token'] ?? env.CONFORMANCE_CONTROL_TOKEN;
  if (upstream && !controlToken)
    throw new UsageError('--upstream needs --control-token (or CONFORMANCE_CONTROL_TOKEN)');
  const clientSecret = values['client-secret'] ?? env.CONFORMANCE_CLIENT_SECRET;
  let as: AsTarget | undefined;
  if (values.as !== undefined) {
    const clientId = values['client-id'];
    if (!clientId) throw new UsageError('--as needs --client-id');
    as = {
      issuer: httpUrl('as', values.as),
      clientId,
      ...(clientSecret ? { clientSecret } : {}),
      clientAuth: clientAuth(values['client-auth'], clientSecret),
      redirectUri: httpUrl(
        'redirect-uri',
        values['redirect-uri'] ?? 'http://localhost:8080/oauth/callback',
      ),
      ...(values.scope !== undefined ? { scope: values.scope } : {}),
      ...(values.resource !== undefined ? { resource: values.resource } : {}),
      username: values.username ?? 'alice',
      password: values.password ?? env.CONFORMANCE_PASSWORD ?? 'alice-pass',
    };
  } else if (values['client-id'] || values['client-secret']) {
    throw new UsageError('--client-id and --client-secret go with --as <issuer>');
  }
  const selfContained = values['self-contained'] ?? false;
  const help = values.help ?? false;
  const list = values.list ?? false;
  if (!help && !list && !selfContained && proxy.length === 0 && !as) {
    throw new UsageError('nothing to test: give --proxy, --as or --self-contained (see --help)');
  }
  if (values.path !== undefined && (values.seed === undefined || checks.length !== 1)) {
    throw new UsageError('--path replays one case: give it with --seed and exactly one --check');
  }
  const seedGiven = values.seed !== undefined;
  const seed = seedGiven
    ? positiveInt('seed', values.seed, 0, 0)
    : Math.floor(Math.random() * 2 ** 31);
  return {
    help,
    list,
    selfContained,
    proxy,
    ...(upstream ? { upstream } : {}),
    ...(controlToken ? { controlToken } : {}),
    ...(as ? { as } : {}),
    tool: values.tool ?? 'listItems',
    ...(values['proxy-state-ttl'] !== undefined
      ? { stateTtl: positiveInt('proxy-state-ttl', values['proxy-state-ttl'], 0) }
      : {}),
    ...(values['refresh-grace'] !== undefined
      ? { refreshGrace: positiveInt('refresh-grace', values['refresh-grace'], 0, 0) }
      : {}),
    suites,
    checks,
    seed,
    seedGiven,
    runs: positiveInt('runs', values.runs, 100),
    ...(values.path !== undefined ? { path: values.path } : {}),
    timeoutMs: positiveInt('timeout', values.timeout, 120_000),
    reportDir: values['report-dir'] ?? 'reports',
    quiet: values.quiet ?? false,
  };
}

/** The part of a command line that reaches the same targets again, secrets as env references. */
export function replayPrefix(config: CliConfig): string {
  const parts: string[] = [];
  const flag = (name: string, value: string) => parts.push(name, shellQuote(value));
  if (config.selfContained) parts.push('--self-contained');
  for (const url of config.proxy) flag('--proxy', url);
  if (config.upstream) {
    flag('--upstream', config.upstream);
    parts.push('--control-token', '"$CONFORMANCE_CONTROL_TOKEN"');
  }
  const as = config.as;
  if (as) {
    flag('--as', as.issuer);
    flag('--client-id', as.clientId);
    flag('--redirect-uri', as.redirectUri);
    if (as.clientSecret) parts.push('--client-secret', '"$CONFORMANCE_CLIENT_SECRET"');
    const auth = { client_secret_basic: 'basic', client_secret_post: 'post', none: 'none' }[
      as.clientAuth
    ];
    if (auth !== (as.clientSecret ? 'basic' : 'none')) flag('--client-auth', auth);
    if (as.scope !== undefined) flag('--scope', as.scope);
    if (as.resource) flag('--resource', as.resource);
    if (as.username && as.username !== 'alice') flag('--username', as.username);
    if (as.password && as.password !== 'alice-pass')
      parts.push('--password', '"$CONFORMANCE_PASSWORD"');
  }
  if (config.tool !== 'listItems') flag('--tool', config.tool);
  if (config.stateTtl !== undefined) flag('--proxy-state-ttl', String(config.stateTtl));
  if (config.refreshGrace !== undefined) flag('--refresh-grace', String(config.refreshGrace));
  return ['npm run conformance --', ...parts].join(' ');
}
