/**
 * Tool-call overhead: `tools/call listItems` through the proxy against a direct `GET /api/items` on
 * the test server, same run, at concurrency 1 and 32. Two ways of calling: stateless (one POST
 * without a session, the proxy builds a server and transport for it) and over MCP sessions (as the
 * SDK client does: one initialize per session, then calls carrying Mcp-Session-Id; as many
 * sessions as connections, used round robin). Every call has its own JSON-RPC id.
 * Upstream and proxy run in their own processes; autocannon drives both from this one.
 * Reports the throughput ratio (aim ≥ 0.5) and the added p50/p99 latency (aim: p50 < 1 ms).
 * Latencies come from autocannon's per-response timings (sub-millisecond), not its histogram,
 * which rounds to whole milliseconds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Agent, fetch } from 'undici';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP_S = 1;
const CONCURRENCY = [1, 32];
const HELPER = join(__dirname, 'tool-call-servers.ts');

interface Target {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Session ids to spread the calls over (MCP sessions); none = stateless. */
  sessions?: string[];
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU microseconds per answered request, per watched process (Linux only). */
  cpuPerRequest: number[];
}

/** Processes whose CPU time is charged to each request: [upstream, proxy]. */
let watched: number[] = [];

/** User + system CPU time of a process in ms, from /proc (undefined elsewhere). */
function cpuMs(pid: number): number | undefined {
  if (!existsSync(`/proc/${pid}/stat`)) return undefined;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

function startChild(
  role: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; info: Record<string, string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HELPER, role], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) =>
      resolve({ child, info: JSON.parse(line) as Record<string, string> }),
    );
  });
}

let rpcId = 0;

/** Gives each call its own JSON-RPC id and, over sessions, the next session id in turn. */
function numbered(target: Target) {
  const body = JSON.parse(target.body ?? '{}') as { id?: number };
  const sessions = target.sessions ?? [];
  return (request: autocannon.Request): autocannon.Request => {
    rpcId++;
    const sessionId = sessions[rpcId % sessions.length];
    return {
      ...request,
      body: JSON.stringify({ ...body, id: rpcId }),
      headers:
        sessionId === undefined
          ? { ...target.headers }
          : { ...target.headers, 'mcp-session-id': sessionId },
    };
  };
}

/** Opens `count` MCP sessions (initialize, then notifications/initialized) on a proxied target. */
async function openSessions(target: Target, count: number): Promise<Target> {
  const sessions: string[] = [];
  const dispatcher = new Agent();
  for (let i = 0; i < count; i++) {
    const init = await fetch(target.url, {
      dispatcher,
      method: 'POST',
      headers: target.headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'bench', version: '1' },
        },
      }),
    });
    const sessionId = init.headers.get('mcp-session-id');
    await init.body?.cancel();
    if (init.status !== 200 || !sessionId) throw new Error(`initialize failed: ${init.status}`);
    const ack = await fetch(target.url, {
      dispatcher,
      method: 'POST',
      headers: { ...target.headers, 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    if (ack.status !== 202) throw new Error(`notifications/initialized failed: ${ack.status}`);
    sessions.push(sessionId);
  }
  await dispatcher.close();
  return { ...target, sessions };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function run(target: Target, connections: number, seconds: number): Promise<Measured> {
  const times: number[] = [];
  const cpuBefore = watched.map(cpuMs);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: target.method,
        // autocannon writes Content-Length into the headers it is given: a copy each time.
        headers: { ...target.headers },
        body: target.body,
        connections,
        pipelining: 1,
        duration: seconds,
        ...(target.body === undefined ? {} : { requests: [{ setupRequest: numbered(target) }] }),
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) times.push(ms);
    });
  });
  times.sort((a, b) => a - b);
  const cpuPerRequest = watched.map((pid, i) => {
    const before = cpuBefore[i];
    const after = cpuMs(pid);
    return before === undefined || after === undefined
      ? Number.NaN
      : ((after - before) * 1000) / Math.max(1, times.length);
  });
  return {
    cpuPerRequest,
    rps: times.length / seconds,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

async function main(): Promise<void> {
  const upstream = await startChild('upstream');
  const env = {
    UPSTREAM_URL: upstream.info.url ?? '',
    UPSTREAM_SECRET: upstream.info.apiSecret ?? '',
  };
  const proxy = await startChild('proxy', env);
  const relay = await startChild('relay', env);
  const full = await startChild('full', env);
  try {
    const direct: Target = {
      url: `${upstream.info.url}/api/items`,
      method: 'GET',
      headers: { authorization: `Bearer ${upstream.info.apiSecret}` },
    };
    const relayed: Target = { url: relay.info.url ?? '', method: 'POST', headers: {} };
    const proxied: Target = {
      url: proxy.info.url ?? '',
      method: 'POST',
      headers: {
        authorization: `Bearer ${proxy.info.accessKey}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'listItems', arguments: {} },
      }),
    };
    const fullProxy: Target = {
      ...proxied,
      url: full.info.url ?? '',
      headers: { ...proxied.headers, authorization: `Bearer ${full.info.accessKey}` },
    };
    await checkProxiedCall(proxied);
    await checkProxiedCall(fullProxy);

    console.log(
      `tools/call listItems through the proxy vs GET /api/items direct; ${DURATION_S}s per run, ` +
        `${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(1)} before the runs`,
    );
    let ok = true;
    for (const c of CONCURRENCY) {
      const inSessions = await openSessions(proxied, c);
      const fullInSessions = await openSessions(fullProxy, c);
      await checkProxiedCall(inSessions);
      await checkProxiedCall(fullInSessions);
      watched = [upstream.child.pid ?? 0, proxy.child.pid ?? 0];
      await run(direct, c, WARMUP_S);
      await run(proxied, c, WARMUP_S);
      await run(inSessions, c, WARMUP_S);
      const d = await run(direct, c, DURATION_S);
      const p = await run(proxied, c, DURATION_S);
      const s = await run(inSessions, c, DURATION_S);
      watched = [upstream.child.pid ?? 0, relay.child.pid ?? 0];
      await run(relayed, c, WARMUP_S);
      const r = await run(relayed, c, DURATION_S);
      watched = [upstream.child.pid ?? 0, full.child.pid ?? 0];
      await run(fullInSessions, c, WARMUP_S);
      const f = await run(fullInSessions, c, DURATION_S);
      ok &&= [p, s].every((m) => m.rps / d.rps >= 0.5 && m.p50 - d.p50 < 1 && m.errors === 0);
      ok &&= d.errors === 0;
      console.log(`\nconcurrency ${c} (load average now ${loadavg()[0]?.toFixed(1)})`);
      console.log(`  direct            ${figures(d)}, upstream CPU ${us(d.cpuPerRequest[0])}`);
      console.log(`  proxied, session  ${figures(s)}  ${versus(s, d)}`);
      console.log(`  proxied, no sess. ${figures(p)}  ${versus(p, d)}`);
      console.log(`  relay floor       ${figures(r)}  ${versus(r, d)}`);
      console.log(`  whole proxy, sess ${figures(f)}  ${versus(f, d)}`);
    }
    console.log(
      '\nratio = proxied req/s ÷ direct req/s (aim ≥ 0.5); +p50 = added median latency (aim < 1 ms).' +
        '\nrelay floor: a bare express+undici relay of GET /api/items, no MCP. whole proxy: server.ts ' +
        'with its SQLite store and the bearer fixture, over sessions. CPU: per answered request, ' +
        'upstream + the proxying process.',
    );
    console.log(ok ? '\naims met' : '\naims NOT met');
  } finally {
    full.child.kill();
    relay.child.kill();
    proxy.child.kill();
    upstream.child.kill();
  }
}

/** Ratio, added latency and CPU per request of a proxied run against the direct one. */
function versus(m: Measured, direct: Measured): string {
  return (
    `ratio ${(m.rps / direct.rps).toFixed(2)}, +p50 ${(m.p50 - direct.p50).toFixed(3)} ms, ` +
    `+p99 ${(m.p99 - direct.p99).toFixed(3)} ms, CPU ${us(m.cpuPerRequest[0])} + ` +
    `${us(m.cpuPerRequest[1])}`
  );
}

function figures(m: Measured): string {
  return (
    `${m.rps.toFixed(0).padStart(6)} req/s, p50 ${m.p50.toFixed(3)} ms, p99 ${m.p99.toFixed(3)} ms` +
    (m.errors > 0 ? `, ${m.errors} errors` : '')
  );
}

function us(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toFixed(0)} µs`;
}

async function checkProxiedCall(target: Target): Promise<void> {
  const sessionId = target.sessions?.[0];
  const dispatcher = new Agent();
  const res = await fetch(target.url, {
    dispatcher,
    method: 'POST',
    headers: sessionId ? { ...target.headers, 'mcp-session-id': sessionId } : target.headers,
    body: target.body,
  });
  const message = (await res.json()) as { result?: { isError?: boolean; content?: unknown } };
  await dispatcher.close();
  if (res.status !== 200 || !message.result || message.result.isError) {
    throw new Error(`proxied listItems failed: ${res.status} ${JSON.stringify(message)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
