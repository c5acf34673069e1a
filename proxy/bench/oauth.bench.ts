/**
 * OAuth benchmarks, printed as ratios against baselines measured in the same run:
 * 1. complete authorization flows per second through the proxy (DCR, authorize, consent, upstream
 *    authorize with the test server's auto-approve, callback, token), against the upstream's own
 *    authorization_code flow alone;
 * 2. a refresh storm: 10, 100 and 1000 concurrent tool calls on a grant whose upstream token has
 *    expired: upstream refreshes (must be 1), errors (must be 0), p99 latency against one
 *    refresh round trip to the upstream.
 */
import * as oauth from 'oauth4webapi';
import { type OAuthStack, startOAuthStack } from '../test/oauth/harness';
import { UserAgent } from '../test/oauth/user-agent';

const CLIENT_REDIRECT = 'http://127.0.0.1:43117/callback';
let offset = 0;
const clock = () => Date.now() + offset;

interface Counters {
  grants: Record<string, { requests: number; ok: number; errors: number }>;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

async function form(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  const body = (await response.json()) as Record<string, string>;
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** One complete flow through the proxy, as a new MCP client; returns its proxy tokens. */
async function proxyFlow(stack: OAuthStack) {
  const base = `${stack.proxyUrl}/oauth/test-oauth`;
  const registration = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' }),
  });
  const { client_id: clientId } = (await registration.json()) as { client_id: string };
  const verifier = oauth.generateRandomCodeVerifier();
  const url = new URL(`${base}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    resource: stack.mcpUrl,
  }).toString();
  const back = await new UserAgent().run(url, (u) => u.href.startsWith(CLIENT_REDIRECT));
  return form(`${base}/token`, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code: back.searchParams.get('code') ?? '',
    code_verifier: verifier,
    redirect_uri: CLIENT_REDIRECT,
  });
}

/** The upstream's own authorization_code flow with the pre-registered client (the baseline). */
async function upstreamFlow(stack: OAuthStack) {
  const { upstream } = stack;
  const redirect = `${stack.proxyUrl}/oauth/callback`;
  const verifier = oauth.generateRandomCodeVerifier();
  const url = new URL(`${upstream.url}/auth/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: upstream.clientId,
    redirect_uri: redirect,
    scope: 'items:read items:write users:read',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: oauth.generateRandomState(),
  }).toString();
  const back = await new UserAgent().run(url, (u) => u.href.startsWith(redirect));
  return form(
    `${upstream.url}/auth/token`,
    {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      code_verifier: verifier,
      redirect_uri: redirect,
    },
    {
      authorization: `Basic ${Buffer.from(`${upstream.clientId}:${upstream.clientSecret}`).toString('base64')}`,
    },
  );
}

async function flowsPerSecond(run: () => Promise<unknown>, seconds: number, concurrency: number) {
  let done = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await run();
        done += 1;
      }
    }),
  );
  return done / seconds;
}

async function toolCall(
  stack: OAuthStack,
  accessToken: string,
): Promise<{ ms: number; ok: boolean }> {
  const started = performance.now();
  const response = await fetch(stack.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
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
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let ok = response.ok;
  try {
    const body = JSON.parse(text) as { error?: unknown; result?: { isError?: boolean } };
    ok = ok && body.error === undefined && body.result?.isError !== true;
  } catch {
    ok = false;
  }
  return { ms, ok };
}

async function main() {
  const stack = await startOAuthStack({
    autoApprove: true,
    // Proxy tokens outlive the clock jumps that expire the upstream tokens.
    module: { clock, timings: { accessTokenTtl: 365 * 86_400_000 } },
  });
  try {
    for (let i = 0; i < 3; i++) {
      await upstreamFlow(stack);
      await proxyFlow(stack);
    }
    const upstreamRate = await flowsPerSecond(() => upstreamFlow(stack), 3, 4);
    const proxyRate = await flowsPerSecond(() => proxyFlow(stack), 3, 4);
    console.log(
      `authorization flows/s: proxy ${proxyRate.toFixed(1)} vs upstream-only ${upstreamRate.toFixed(1)} ` +
        `(ratio ${(proxyRate / upstreamRate).toFixed(2)}; the proxy flow contains one upstream flow)`,
    );

    // Baseline: one refresh round trip straight to the upstream token endpoint.
    const basic = {
      authorization: `Basic ${Buffer.from(`${stack.upstream.clientId}:${stack.upstream.clientSecret}`).toString('base64')}`,
    };
    let upstreamRefresh = (await upstreamFlow(stack)).refresh_token ?? '';
    const roundTrips: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const body = await form(
        `${stack.upstream.url}/auth/token`,
        { grant_type: 'refresh_token', refresh_token: upstreamRefresh },
        basic,
      );
      roundTrips.push(performance.now() - started);
      upstreamRefresh = body.refresh_token ?? upstreamRefresh;
    }
    roundTrips.sort((a, b) => a - b);
    const refreshMs = percentile(roundTrips, 0.5);
    console.log(`one upstream refresh round trip: p50 ${refreshMs.toFixed(2)} ms`);

    for (const calls of [10, 100, 1000]) {
      const { access_token: token = '' } = await proxyFlow(stack);
      await toolCall(stack, token); // warm: the grant works
      // Baseline: the same storm while the upstream token is still fresh (no refresh), measured
      // after a first storm that opens the connections both measured storms then reuse.
      await Promise.all(Array.from({ length: calls }, () => toolCall(stack, token)));
      const fresh = await Promise.all(Array.from({ length: calls }, () => toolCall(stack, token)));
      const freshP99 = percentile(
        fresh.map((r) => r.ms).sort((a, b) => a - b),
        0.99,
      );
      offset += 2 * 3_600_000; // the grant's upstream token is now past its expiry for the proxy
      const before = (await stack.control('/counters')) as Counters;
      const results = await Promise.all(
        Array.from({ length: calls }, () => toolCall(stack, token)),
      );
      const after = (await stack.control('/counters')) as Counters;
      const refreshes =
        (after.grants.refresh_token?.requests ?? 0) - (before.grants.refresh_token?.requests ?? 0);
      const errors = results.filter((r) => !r.ok).length;
      const times = results.map((r) => r.ms).sort((a, b) => a - b);
      const p99 = percentile(times, 0.99);
      console.log(
        `refresh storm ${String(calls).padStart(4)} calls: upstream refreshes ${refreshes} (must be 1), ` +
          `errors ${errors} (must be 0), p99 ${p99.toFixed(1)} ms = ${(p99 / freshP99).toFixed(2)}x ` +
          `the same storm without refresh (${freshP99.toFixed(1)} ms), ` +
          `${((p99 - freshP99) / refreshMs).toFixed(1)} refresh round trips added`,
      );
      if (refreshes !== 1 || errors !== 0) process.exitCode = 1;
    }
  } finally {
    await stack.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
