/**
 * Where the proxy's CPU goes on `tools/call`: runs the MCP router (tool-call-servers.ts `proxy`)
 * under `node --cpu-prof`, drives it with autocannon over MCP sessions (or stateless POSTs with
 * `--stateless`), and prints the self time by package and the hottest functions of our own code.
 * Not part of `npm run bench`; run it as `node --import tsx proxy/bench/tool-call-profile.ts`.
 * `PROFILE_SECONDS` (default 10) and `PROFILE_CONNECTIONS` (default 8) tune the load.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Agent, fetch } from 'undici';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 8);
const STATELESS = process.argv.includes('--stateless');
const HELPER = join(__dirname, 'tool-call-servers.ts');

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }>;
  samples: number[];
  timeDeltas: number[];
}

function start(
  role: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<{ child: ChildProcess; info: Record<string, string> }> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', HELPER, role], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) =>
      resolve({ child, info: JSON.parse(line) as Record<string, string> }),
    );
  });
}

async function openSession(url: string, headers: Record<string, string>): Promise<string> {
  const dispatcher = new Agent();
  const init = await fetch(url, {
    dispatcher,
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'profile', version: '1' },
      },
    }),
  });
  const sessionId = init.headers.get('mcp-session-id');
  await init.body?.cancel();
  if (!sessionId) throw new Error(`initialize failed: ${init.status}`);
  await fetch(url, {
    dispatcher,
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': sessionId },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await dispatcher.close();
  return sessionId;
}

/** Package (or our own part) a profiled function belongs to. */
function groupOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (url === '') return name === 'writev' || name.startsWith('write') ? 'socket writes' : 'native';
  const ours = /\/proxy\/src\/([^/]+)\//.exec(url);
  if (ours) return `ours: ${ours[1]}`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (dep) return dep[1] ?? 'dependency';
  if (url.startsWith('node:internal/webstreams') || url.includes('internal/deps/undici')) {
    return 'node web streams / fetch Response';
  }
  return url.startsWith('node:') ? 'node core' : 'other';
}

function report(profile: CpuProfile, skipMs: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let elapsed = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    elapsed += delta;
    const frame = byId.get(id);
    if (elapsed < skipMs * 1000 || !frame || frame.functionName === '(idle)') return;
    busy += delta;
    const group = groupOf(frame.url, frame.functionName);
    groups.set(group, (groups.get(group) ?? 0) + delta);
    if (group.startsWith('ours')) {
      const where = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/proxy\//, 'proxy/')}`;
      functions.set(where, (functions.get(where) ?? 0) + delta);
    }
  });
  const share = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
  console.log(`self time by package (${(busy / 1000).toFixed(0)} ms busy after warm-up):`);
  for (const [group, t] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`  ${share(t)} ${group}`);
  }
  console.log('our hottest functions (self time):');
  for (const [where, t] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`  ${share(t)} ${where}`);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tool-call-profile-'));
  const exitOnTerm = join(dir, 'exit-on-term.cjs');
  // --cpu-prof writes the profile only on a normal exit.
  writeFileSync(exitOnTerm, "process.on('SIGTERM', () => process.exit(0));\n");
  const upstream = await start('upstream', {});
  const env = {
    UPSTREAM_URL: upstream.info.url ?? '',
    UPSTREAM_SECRET: upstream.info.apiSecret ?? '',
  };
  const proxy = await start('proxy', env, [
    '--require',
    exitOnTerm,
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
  ]);
  try {
    const url = proxy.info.url ?? '';
    const headers = {
      authorization: `Bearer ${proxy.info.accessKey}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
    };
    const sessions: string[] = [];
    if (!STATELESS) {
      for (let i = 0; i < CONNECTIONS; i++) sessions.push(await openSession(url, headers));
    }
    let id = 0;
    const result = await autocannon({
      url,
      method: 'POST',
      headers: { ...headers },
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          setupRequest: (request: autocannon.Request) => {
            id++;
            const sessionId = sessions[id % Math.max(1, sessions.length)];
            return {
              ...request,
              headers: sessionId ? { ...headers, 'mcp-session-id': sessionId } : { ...headers },
              body: JSON.stringify({
                jsonrpc: '2.0',
                id,
                method: 'tools/call',
                params: { name: 'listItems', arguments: {} },
              }),
            };
          },
        },
      ],
    });
    console.log(
      `${STATELESS ? 'stateless' : 'over sessions'}, ${CONNECTIONS} connections, ${SECONDS}s: ` +
        `${result.requests.average.toFixed(0)} req/s, ${result.non2xx} non-2xx`,
    );
    const exited = new Promise((resolve) => proxy.child.once('exit', resolve));
    proxy.child.kill('SIGTERM');
    await exited;
    // The main thread's profile is the largest (the loader thread writes one too).
    const file = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (!file) throw new Error('no profile written');
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    // Startup (module loading, tool compilation) is not the tool-call path.
    report(profile, profileStartupMs(profile, SECONDS));
    console.log(`profile: ${file}`);
  } finally {
    proxy.child.kill();
    upstream.child.kill();
  }
}

/** Everything before the last `seconds` of load is startup and session setup. */
function profileStartupMs(profile: CpuProfile, seconds: number): number {
  const total = profile.timeDeltas.reduce((sum, d) => sum + d, 0) / 1000;
  return Math.max(0, total - seconds * 1000 + 500);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
