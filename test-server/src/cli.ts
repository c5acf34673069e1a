/**
 * The command line: flags parsed with node:util parseArgs into TestServerOptions, the help
 * text, the startup banner, and one-line errors (exit 2 for usage, 1 for runtime).
 */
import { parseArgs } from 'node:util';
import {
  API_KEY_HEADER,
  API_SCOPES,
  DEFAULT_PORT,
  DEFAULT_REDIRECT_URI,
  MODES,
  type Mode,
  SECRET_HEADER,
  TENANT_HEADER,
  TENANT_VALUE,
  TEST_USERS,
  type TestServerOptions,
  TOKEN_FORMATS,
  type TokenFormat,
} from './options';
import { preRegisteredClient } from './provider';
import type { RunningTestServer } from './server';

/** A command-line mistake: printed as one line, exit status 2. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

export const HELP = `Usage: npx tsx test-server [flags]

An OAuth 2.0 authorization server (oidc-provider) with a demo API, for testing OAuth clients.

Flags (default in brackets):
  --mode <mode>               oauth | dcr | bearer | apikey | headers | none [oauth]
  --port <n>                  port to listen on, 0 = any free port [${DEFAULT_PORT}]
  --client-secret <s>         secret of the pre-registered client test-client-id
                              [random cs_… per start]
  --redirect-uri <url>        extra redirect URI of test-client-id, repeatable
                              [${DEFAULT_REDIRECT_URI} is always registered]
  --auto-approve              log in alice and grant the requested scopes without
                              showing the login and consent pages [off]
  --access-token-ttl <s>      access token lifetime in seconds [3600]
  --refresh-token-ttl <s>     refresh token lifetime in seconds [86400]
  --token-format <f>          jwt (RFC 9068) | opaque (introspectable, revocable) [jwt]
  --control-token <s>         bearer token of the /__control API [random ctl_… per start]
  --registration-token <s>    dcr mode: initial access token required by /auth/register
                              [none: open registration]
  --api-secret <s>            the static credential in bearer/apikey/headers modes
                              [random tk_…/ak_…/hs_… per start]
  --help                      show this help
`;

function integer(
  flag: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

/** Parses argv (without node and script) into options, or `help`. Throws UsageError. */
export function parseCli(
  argv: string[],
): { help: true } | { help: false; options: Partial<TestServerOptions> } {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        mode: { type: 'string' },
        port: { type: 'string' },
        'client-secret': { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'auto-approve': { type: 'boolean' },
        'access-token-ttl': { type: 'string' },
        'refresh-token-ttl': { type: 'string' },
        'token-format': { type: 'string' },
        'control-token': { type: 'string' },
        'registration-token': { type: 'string' },
        'api-secret': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  }
  try {
    parsed = parse();
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(message ?? '')?.[1] ?? 'flag';
      throw new UsageError(`unknown flag ${flag}: run with --help to list the flags`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']+)'/.exec(message ?? '')?.[1] ?? '';
      throw new UsageError(
        `unexpected argument "${arg}": flags take the form --name value (see --help)`,
      );
    }
    throw new UsageError(`${message} (see --help)`);
  }
  const v = parsed.values;
  if (v.help) return { help: true };

  const options: Partial<TestServerOptions> = {};
  if (v.mode !== undefined) {
    if (!MODES.includes(v.mode as Mode)) {
      throw new UsageError(`unknown mode "${v.mode}": use --mode ${MODES.join('|')}`);
    }
    options.mode = v.mode as Mode;
  }
  const port = integer('--port', v.port, 0, 65535);
  if (port !== undefined) options.port = port;
  const accessTokenTtl = integer('--access-token-ttl', v['access-token-ttl'], 1, 31_536_000);
  if (accessTokenTtl !== undefined) options.accessTokenTtl = accessTokenTtl;
  const refreshTokenTtl = integer('--refresh-token-ttl', v['refresh-token-ttl'], 1, 31_536_000);
  if (refreshTokenTtl !== undefined) options.refreshTokenTtl = refreshTokenTtl;
  if (v['token-format'] !== undefined) {
    if (!TOKEN_FORMATS.includes(v['token-format'] as TokenFormat)) {
      throw new UsageError(
        `unknown token format "${v['token-format']}": use --token-format jwt|opaque`,
      );
    }
    options.tokenFormat = v['token-format'] as TokenFormat;
  }
  for (const uri of v['redirect-uri'] ?? []) {
    if (!URL.canParse(uri) || new URL(uri).hash !== '') {
      throw new UsageError(`--redirect-uri "${uri}" is not an absolute URL without a fragment`);
    }
  }
  if (v['redirect-uri']) options.redirectUris = v['redirect-uri'];
  const secrets: Array<[string | undefined, string, keyof TestServerOptions]> = [
    [v['client-secret'], '--client-secret', 'clientSecret'],
    [v['control-token'], '--control-token', 'controlToken'],
    [v['registration-token'], '--registration-token', 'registrationToken'],
    [v['api-secret'], '--api-secret', 'apiSecret'],
  ];
  for (const [value, flag, key] of secrets) {
    if (value === undefined) continue;
    if (!/^[\x21-\x7e]+$/.test(value)) {
      throw new UsageError(`${flag} must be non-empty printable ASCII without spaces`);
    }
    (options as Record<string, unknown>)[key] = value;
  }
  if (v['auto-approve']) options.autoApprove = true;
  return { help: false, options };
}

/** The startup banner; its first lines are the seed's (step 1). */
export function banner(server: RunningTestServer): string {
  const { url, options } = server;
  const lines: string[] = [`✅ Test server (${server.mode} mode) listening on ${url}`, ''];
  const oauth = server.mode === 'oauth' || server.mode === 'dcr';
  if (oauth) {
    const client = preRegisteredClient(options);
    lines.push(
      '🔑 Pre-registered OAuth client:',
      `client_id : ${server.clientId}`,
      `client_secret : ${server.clientSecret}`,
      `grant_types : ${(client.grant_types ?? []).join(', ')}`,
      `redirect_uris : ${(client.redirect_uris ?? []).join(', ')}`,
      `🌐 Token endpoint : ${url}/auth/token`,
      `🌐 Auth endpoint : ${url}/auth/authorize`,
    );
    if (server.mode === 'dcr') {
      lines.push(`🌐 Registration endpoint : ${url}/auth/register`);
      if (options.registrationToken) {
        lines.push(`🎫 Initial access token : ${options.registrationToken}`);
      }
    }
    lines.push(
      `🌐 Metadata : ${url}/.well-known/oauth-authorization-server`,
      `🌐 Protected resource metadata : ${url}/.well-known/oauth-protected-resource`,
      `🔒 Scopes : ${API_SCOPES.join(' ')}`,
      `👤 Test users : ${TEST_USERS.map((u) => `${u.username} / ${u.password}`).join(', ')}${options.autoApprove ? ' (auto-approve: alice, no pages)' : ''}`,
      `⏱️  Tokens : ${options.tokenFormat}, access ${options.accessTokenTtl} s, refresh ${options.refreshTokenTtl} s`,
    );
  } else if (server.mode === 'bearer') {
    lines.push(
      `🔑 Bearer token : ${server.apiSecret}`,
      `   send Authorization: Bearer ${server.apiSecret}`,
    );
  } else if (server.mode === 'apikey') {
    lines.push(
      `🔑 API key : ${server.apiSecret}`,
      `   send ${API_KEY_HEADER}: ${server.apiSecret}`,
    );
  } else if (server.mode === 'headers') {
    lines.push(
      '🔑 Custom headers:',
      `${TENANT_HEADER} : ${TENANT_VALUE}`,
      `${SECRET_HEADER} : ${server.apiSecret}`,
    );
  } else {
    lines.push('🔓 The API is open: no credentials needed');
  }
  lines.push(
    `📄 OpenAPI : ${url}/openapi.json`,
    `📦 API : ${server.apiUrl}/items, ${server.apiUrl}/items/{id}, ${server.apiUrl}/users`,
    `🛠️  Control token : ${server.controlToken} (${url}/__control, loopback only)`,
    '',
    'Press Ctrl+C to stop.',
  );
  return lines.join('\n');
}
