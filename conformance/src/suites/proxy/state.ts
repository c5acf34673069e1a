/**
 * proxy-state: the client's state comes back byte-exact; the proxy's upstream state is fresh per
 * request, and a callback whose state is missing, altered, replayed, expired or delivered in
 * another browser issues nothing to the client and makes no upstream code exchange.
 */
import fc from 'fast-check';
import { grantDelta } from '../../control';
import { expect, SkipCheck } from '../../errors';
import { type AuthorizationOutcome, describeOutcome } from '../../oauth/client';
import { ProxyClient, proxyClient } from '../../proxy/client';
import { sleep } from '../../time';
import type { Check, CheckContext } from '../../types';
import { stateArbitrary } from '../as/state';
import { MCP_SECURITY, RFC } from '../links';
import { control, fail } from './common';

const suite = 'proxy-state';

interface Tampering {
  /** Changes the callback URL; undefined = deliver it unchanged. */
  mutate?: (callback: URL) => URL;
  /** Deliver in a fresh browser (no cookies from the consent). */
  otherBrowser?: boolean;
  /** Deliver the genuine callback once before the tampered delivery. */
  deliverFirst?: boolean;
  /** Wait before delivering, ms. */
  waitMs?: number;
}

/** One authorization with a tampered callback: fails if the client got a code or the upstream code was redeemed. */
async function tamperedCallback(
  ctx: CheckContext,
  client: ProxyClient,
  tampering: Tampering,
): Promise<void> {
  const ua = client.browser();
  const { params } = ProxyClient.pkce();
  const legs = await client.legs(ua, params, ctx.signal);
  if (legs.kind !== 'upstream') fail(`no upstream leg observed: ${describeOutcome(legs.outcome)}`);
  if (tampering.deliverFirst) {
    const genuine = await client.deliver(ua, legs.callback, ctx.signal);
    expect(genuine.kind === 'code', `the genuine callback failed: ${describeOutcome(genuine)}`);
  }
  if (tampering.waitMs) await sleep(tampering.waitMs, ctx.signal);
  const ctl = control(ctx);
  const before = await ctl.counters();
  const url = tampering.mutate ? tampering.mutate(new URL(legs.callback)) : legs.callback;
  const outcome: AuthorizationOutcome = await client.deliver(
    tampering.otherBrowser ? client.browser() : ua,
    url,
    ctx.signal,
  );
  const after = await ctl.counters();
  expect(
    outcome.kind !== 'code',
    `the tampered callback issued a code to the client (${url.search})`,
  );
  const exchanges = grantDelta(before, after, 'authorization_code').requests;
  expect(exchanges === 0, `the tampered callback made ${exchanges} upstream code exchange(s)`);
}

const withState = (state: string | null) => (callback: URL) => {
  const url = new URL(callback);
  if (state === null) url.searchParams.delete('state');
  else url.searchParams.set('state', state);
  return url;
};

/** How to alter a state value: one character replaced, truncated, extended, or case flipped. */
export type Alteration =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'truncate'; length: number }
  | { kind: 'append'; char: string }
  | { kind: 'flip-case' };

export function alterationArbitrary(): fc.Arbitrary<Alteration> {
  const char = fc.constantFrom(
    ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  );
  return fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char }),
    fc.record({ kind: fc.constant('truncate' as const), length: fc.nat() }),
    fc.record({ kind: fc.constant('append' as const), char }),
    fc.record({ kind: fc.constant('flip-case' as const) }),
  );
}

/** Applies `alteration` to `state`; the result always differs from `state`. */
export function alter(state: string, alteration: Alteration): string {
  let result = state;
  switch (alteration.kind) {
    case 'replace': {
      const i = alteration.at % Math.max(1, state.length);
      result = state.slice(0, i) + alteration.char + state.slice(i + 1);
      break;
    }
    case 'truncate':
      result = state.slice(0, alteration.length % Math.max(1, state.length));
      break;
    case 'append':
      result = state + alteration.char;
      break;
    case 'flip-case':
      result = state.replace(/[a-z]/gi, (c) =>
        c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(),
      );
      break;
  }
  return result === state ? `${state}x` : result;
}

function base(id: string, title: string): Omit<Check, 'run'> {
  return {
    id,
    title,
    clause: 'RFC 6749 §10.12; RFC 9700 §4.7.1; MCP Security Best Practices (Confused Deputy)',
    link: MCP_SECURITY('confused-deputy-problem'),
    level: 'MUST',
    suite,
    needs: ['proxy', 'upstream'],
  };
}

export const proxyStateChecks: Check[] = [
  {
    id: 'proxy-state-client-roundtrip',
    title: "The client's state comes back from the proxy byte-exact, for any allowed value",
    clause: 'RFC 6749 §4.1.2',
    link: RFC(6749, '4.1.2'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      await ctx.property(
        [stateArbitrary()],
        async (state) => {
          const { outcome } = await client.authorize({ state }, ctx.signal);
          expect(outcome.kind === 'code', `authorization failed: ${describeOutcome(outcome)}`);
          const returned = outcome.params.get('state');
          expect(
            returned === state,
            `state came back as ${JSON.stringify(returned)} for ${JSON.stringify(state)}`,
          );
        },
        { maxRuns: 10 },
      );
    },
  },
  {
    ...base(
      'proxy-state-upstream-fresh',
      'Each upstream authorization request carries a fresh, unguessable state',
    ),
    async run(ctx) {
      const client = await proxyClient(ctx);
      const seen = new Set<string>();
      for (let i = 0; i < 3; i += 1) {
        const legs = await client.legs(client.browser(), ProxyClient.pkce().params, ctx.signal);
        if (legs.kind !== 'upstream')
          fail(`no upstream leg observed: ${describeOutcome(legs.outcome)}`);
        const state = legs.upstreamAuthorize.searchParams.get('state');
        expect(
          state && state.length >= 22,
          `upstream state ${JSON.stringify(state)} is missing or shorter than 128 bits of base64url`,
        );
        expect(!seen.has(state), 'the proxy reused an upstream state');
        seen.add(state);
      }
    },
  },
  {
    ...base('proxy-state-callback-missing', 'A callback without state issues nothing'),
    async run(ctx) {
      await tamperedCallback(ctx, await proxyClient(ctx), { mutate: withState(null) });
    },
  },
  {
    ...base('proxy-state-callback-altered', 'A callback with an altered state issues nothing'),
    async run(ctx) {
      const client = await proxyClient(ctx);
      await ctx.property(
        [alterationArbitrary()],
        async (alteration) => {
          await tamperedCallback(ctx, client, {
            mutate: (callback) =>
              withState(alter(callback.searchParams.get('state') ?? '', alteration))(callback),
          });
        },
        { maxRuns: 5 },
      );
    },
  },
  {
    ...base(
      'proxy-state-callback-replayed',
      'A callback replayed after it succeeded issues nothing more',
    ),
    async run(ctx) {
      await tamperedCallback(ctx, await proxyClient(ctx), { deliverFirst: true });
    },
  },
  {
    ...base(
      'proxy-state-callback-other-browser',
      'A callback delivered in a browser other than the consenting one issues nothing',
    ),
    async run(ctx) {
      await tamperedCallback(ctx, await proxyClient(ctx), { otherBrowser: true });
    },
  },
  {
    ...base('proxy-state-callback-expired', 'A callback after the state expired issues nothing'),
    async run(ctx) {
      const ttl = ctx.targets.proxy?.stateTtl;
      if (ttl === undefined)
        throw new SkipCheck("the proxy's state lifetime is unknown (give --proxy-state-ttl)");
      if (ttl > 60)
        throw new SkipCheck(
          `the proxy's state lives ${ttl} s, longer than this check waits (60 s)`,
        );
      await tamperedCallback(ctx, await proxyClient(ctx), { waitMs: ttl * 1000 + 1000 });
    },
    timeoutMs: 120_000,
  },
];
