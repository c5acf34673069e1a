/**
 * Test server throughput, each figure beside a baseline measured in the same run:
 * 1. client_credentials tokens per second at concurrency 16 (autocannon) against a plain express
 *    JSON endpoint taking the same form POST;
 * 2. full authorization_code + PKCE flows per second with --auto-approve (authorize, interaction,
 *    resume, token: 4 requests, cookies carried) at concurrency 16, against the same client
 *    making 4 plain requests to the baseline per "flow".
 * The servers run in a child process each; this process only generates load.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONCURRENCY = 16;
const CALLBACK = 'http://localhost:8080/oauth/callback';
const HELPER = join(__dirname, 'servers.ts');

function startChild(role: string): Promise<{ child: ChildProcess; info: Record<string, string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HELPER, role], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    // Bounded: a child that never says it is ready fails the bench instead of hanging it.
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${role} did not report ready within 30 s`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited with ${code}`));
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) as Record<string, string> });
    });
  });
}

async function cannon(
  opts: autocannon.Options,
): Promise<{ rps: number; non2xx: number; errors: number }> {
  const result = await autocannon({ connections: CONCURRENCY, duration: DURATION_S, ...opts });
  return { rps: result.requests.average, non2xx: result.non2xx, errors: result.errors };
}

/** Runs `flow` from CONCURRENCY workers for DURATION_S seconds; returns completed flows per second. */
async function closedLoop(
  flow: () => Promise<void>,
): Promise<{ perSecond: number; failures: number }> {
  const end = performance.now() + DURATION_S * 1000;
  let done = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        try {
          await flow();
          done += 1;
        } catch {
          failures += 1;
        }
      }
    }),
  );
  return { perSecond: done / ((performance.now() - started) / 1000), failures };
}

/** GET without following redirects, carrying and collecting cookies. */
async function step(url: string, jar: Map<string, string>): Promise<string> {
  const res = await fetch(url, {
    redirect: 'manual',
    headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(';')[0] ?? '';
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  await res.arrayBuffer();
  const location = res.headers.get('location');
  if (!location) throw new Error(`${url}: ${res.status} without redirect`);
  return new URL(location, url).href;
}

async function authorizationCodeFlow(url: string, basic: string): Promise<void> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = new URL(`${url}/auth/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'test-client-id',
    redirect_uri: CALLBACK,
    scope: 'items:read',
    state: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  const jar = new Map<string, string>();
  let next = await step(authorize.href, jar);
  while (!next.startsWith(CALLBACK)) next = await step(next, jar);
  const code = new URL(next).searchParams.get('code');
  if (!code) throw new Error(`no code: ${next}`);
  const token = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      code_verifier: verifier,
    }),
  });
  const body = (await token.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token: ${token.status}`);
}

async function baselineFlow(url: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${url}/json`);
    await res.arrayBuffer();
  }
  const res = await fetch(`${url}/json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=authorization_code&code=x',
  });
  await res.json();
}

async function main(): Promise<void> {
  const server = await startChild('test-server');
  const baseline = await startChild('baseline').catch((error: unknown) => {
    server.child.kill();
    throw error;
  });
  try {
    const url = server.info.url as string;
    const basic = `Basic ${Buffer.from(`test-client-id:${server.info.clientSecret}`).toString('base64')}`;
    const form = 'grant_type=client_credentials';
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };

    // Warm-up of both servers (JIT, key caches).
    await cannon({
      url: `${baseline.info.url}/json`,
      duration: 1,
      method: 'POST',
      headers: formHeaders,
      body: form,
    });
    await cannon({
      url: `${url}/auth/token`,
      duration: 1,
      method: 'POST',
      headers: { ...formHeaders, authorization: basic },
      body: form,
    });

    const base = await cannon({
      url: `${baseline.info.url}/json`,
      method: 'POST',
      headers: formHeaders,
      body: form,
    });
    const cc = await cannon({
      url: `${url}/auth/token`,
      method: 'POST',
      headers: { ...formHeaders, authorization: basic },
      body: form,
    });
    const baseFlows = await closedLoop(() => baselineFlow(baseline.info.url as string));
    const flows = await closedLoop(() => authorizationCodeFlow(url, basic));

    console.log(
      `test-server bench: Node ${process.version}, ${cpus().length} CPUs, concurrency ${CONCURRENCY}, ${DURATION_S} s per figure`,
    );
    console.log(`  baseline express POST /json          ${base.rps.toFixed(0).padStart(7)} req/s`);
    console.log(
      `  client_credentials POST /auth/token  ${cc.rps.toFixed(0).padStart(7)} tokens/s   ${(cc.rps / base.rps).toFixed(3)}x baseline` +
        `   (non-2xx ${cc.non2xx}, errors ${cc.errors})`,
    );
    console.log(
      `  baseline 4 plain requests per flow   ${baseFlows.perSecond.toFixed(0).padStart(7)} flows/s`,
    );
    console.log(
      `  authorization_code + PKCE flow       ${flows.perSecond.toFixed(0).padStart(7)} flows/s    ${(flows.perSecond / baseFlows.perSecond).toFixed(3)}x baseline` +
        `   (failures ${flows.failures})`,
    );
    if (cc.non2xx > 0 || cc.errors > 0 || flows.failures > 0) process.exitCode = 1;
  } finally {
    server.child.removeAllListeners('exit');
    baseline.child.removeAllListeners('exit');
    server.child.kill();
    baseline.child.kill();
  }
}

main().catch((error: unknown) => {
  console.error(`test-server bench failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
