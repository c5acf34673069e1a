/**
 * `npm start`: the seed's whole setup in one command. Starts the test server in oauth mode and
 * the proxy with the seed's `test-oauth` workspace (fixtures/workspaces/oauth.yaml), then prints
 * the Claude Desktop / mcp-remote snippet for its MCP URL.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../proxy/src/log';
import { startProxy } from '../proxy/src/server';
import { banner } from '../test-server/src/cli';
import { startTestServer } from '../test-server/src/server';

const HELP = `Usage: npm start [-- flags]

Starts the test server (oauth mode) and the proxy serving the seed's workspace "test-oauth".

Flags:
  --auto-approve            skip the test server's login page (the proxy's consent page
                            still shows)                                    default: off
  --test-server-port <n>    port of the test server                         default: 3456
  --proxy-port <n>          port of the proxy                               default: 8080
  --data-dir <dir>          the proxy's data directory                      default: .data
  --help                    this text
`;

/** Parses a port flag or exits 2 naming it. */
function portFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`npm start: --${name} must be a port number (1-65535), got "${value}"`);
    process.exit(2);
  }
  return port;
}

async function main(): Promise<void> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (err) {
    console.error(`npm start: ${err instanceof Error ? err.message : String(err)} (see --help)`);
    process.exit(2);
  }
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  const testServerPort = portFlag('test-server-port', values['test-server-port'], 3456);
  const proxyPort = portFlag('proxy-port', values['proxy-port'], 8080);
  const proxyUrl = `http://localhost:${proxyPort}`;

  // Handlers first: a Ctrl+C while either part is still starting closes what has started.
  const closers: Array<() => Promise<void>> = [];
  const stop = () => {
    Promise.allSettled(closers.map((close) => close())).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const testServer = await startTestServer({
    mode: 'oauth',
    port: testServerPort,
    autoApprove: values['auto-approve'] === true,
    redirectUris: [`${proxyUrl}/oauth/callback`],
  });
  closers.push(() => testServer.close());
  console.log(banner(testServer));

  const proxy = await startProxy({
    port: proxyPort,
    dataDir: values['data-dir'] ?? '.data',
    config: join(__dirname, '..', 'fixtures', 'workspaces', 'oauth.yaml'),
    env: {
      ...process.env,
      TEST_SERVER_URL: testServer.url,
      TEST_CLIENT_SECRET: testServer.clientSecret,
    },
    handleSignals: false,
    // The banner and snippet are the output here; the proxy speaks up only for problems.
    logger: createLogger({ level: 'warn' }),
  });
  closers.push(() => proxy.close());

  const mcpUrl = `${proxy.url}/mcp/test-oauth`;
  const snippet = {
    mcpServers: { 'test-oauth': { command: 'npx', args: ['-y', 'mcp-remote', mcpUrl] } },
  };
  console.log(`\n🧩 Proxy        : ${proxy.url}`);
  console.log(`🔌 MCP URL      : ${mcpUrl}`);
  if (proxy.adminToken !== undefined) {
    console.log(`🛡️  Admin token  : ${proxy.adminToken} (shown once; PROXY_ADMIN_TOKEN sets it)`);
  }
  console.log('\nClaude Desktop (claude_desktop_config.json):');
  console.log(JSON.stringify(snippet, null, 2));
  console.log(`\nOr from a terminal: npx -y mcp-remote ${mcpUrl}\n`);
}

function parse() {
  return parseArgs({
    options: {
      'auto-approve': { type: 'boolean' },
      'test-server-port': { type: 'string' },
      'proxy-port': { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}

main().catch((err: unknown) => {
  console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
