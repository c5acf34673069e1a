/**
 * Where the target runs in-process, fast-check's scheduler explores the interleavings: the fake
 * proxy's upstream fetch is wrapped in `fc.scheduler()`, so every generated run releases the
 * upstream's answers (refresh and API calls) in a different order. The correct fake keeps exactly
 * one upstream refresh and no failed call under all of them; the fake without single-flight is
 * caught with a shrunk interleaving. Expiry comes from the injected clock, not from sleeping.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ControlClient, grantDelta } from '../src/control';
import type { McpSession } from '../src/mcp/client';
import { ProxyClient } from '../src/proxy/client';
import { type FakeAs, startFakeAs } from './fakes/fake-as';
import { type FakeProxy, type ProxyFlaw, startFakeProxy } from './fakes/fake-proxy';

interface Rig {
  upstream: FakeAs;
  proxy: FakeProxy;
  control: ControlClient;
  client: ProxyClient;
  /** The scheduler of the run in progress; undefined = the proxy's fetch is not intercepted. */
  scheduler: fc.Scheduler | undefined;
  clockOffset: number;
}

async function startRig(flaw: ProxyFlaw): Promise<Rig> {
  const redirectUris: string[] = [];
  const upstream = await startFakeAs({ redirectUris });
  const rig = { upstream, scheduler: undefined, clockOffset: 0 } as Rig;
  const scheduledFetch: typeof fetch = (input, init) =>
    rig.scheduler
      ? rig.scheduler.schedule(fetch(input, init), 'upstream fetch')
      : fetch(input, init);
  rig.proxy = await startFakeProxy({
    flaw,
    fetch: scheduledFetch,
    clock: () => Date.now() + rig.clockOffset,
  });
  redirectUris.push(rig.proxy.callbackUrl);
  rig.proxy.configure({
    url: upstream.url,
    clientId: upstream.clientId,
    clientSecret: upstream.clientSecret,
    authorizationEndpoint: `${upstream.url}/authorize`,
    tokenEndpoint: `${upstream.url}/token`,
  });
  const target = { url: upstream.url, controlToken: upstream.controlToken };
  rig.control = new ControlClient(target);
  rig.client = await ProxyClient.create(rig.proxy.mcpUrls[0] ?? '', target);
  return rig;
}

/** A fresh grant, then `calls` concurrent tool calls after (clock-)expiry, answers released by `s`. */
async function burst(
  rig: Rig,
  s: fc.Scheduler,
  calls: number,
): Promise<{ refreshes: number; failed: number }> {
  rig.scheduler = undefined;
  rig.clockOffset = 0;
  const tokens = await rig.client.obtainTokens();
  const session: McpSession = await rig.client.session(tokens.accessToken);
  rig.clockOffset = 2 * 3600_000;
  const before = await rig.control.counters();
  rig.scheduler = s;
  let settled = 0;
  const results = Array.from({ length: calls }, () =>
    session.callTool('listItems').finally(() => {
      settled += 1;
    }),
  );
  for (let spins = 0; settled < calls && spins < 20_000; spins += 1) {
    if (s.count() > 0) await s.waitOne();
    else await new Promise((resolve) => setImmediate(resolve));
  }
  const outcomes = await Promise.all(results);
  rig.scheduler = undefined;
  const after = await rig.control.counters();
  return {
    refreshes: grantDelta(before, after, 'refresh_token').requests,
    failed: outcomes.filter((o) => !o.ok).length,
  };
}

describe('refresh races under fast-check scheduled interleavings', () => {
  const rigs: Rig[] = [];
  after(async () => {
    for (const rig of rigs) {
      await rig.proxy.close();
      await rig.upstream.close();
    }
  });

  let correct: Rig;
  let broken: Rig;
  before(async () => {
    correct = await startRig('none');
    broken = await startRig('no-single-flight');
    rigs.push(correct, broken);
  });

  test('single-flight holds under every explored interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 12 }), async (s, calls) => {
        const { refreshes, failed } = await burst(correct, s, calls);
        assert.equal(refreshes, 1, `${refreshes} upstream refreshes`);
        assert.equal(failed, 0, `${failed} failed calls`);
      }),
      { seed: 7, numRuns: 15 },
    );
  });

  test('without single-flight an interleaving with several refreshes is found and shrunk', async () => {
    const details = await fc.check(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 12 }), async (s, calls) => {
        const { refreshes, failed } = await burst(broken, s, calls);
        return refreshes === 1 && failed === 0;
      }),
      { seed: 7, numRuns: 15 },
    );
    assert.equal(details.failed, true);
    assert.equal(
      details.counterexample?.[1],
      2,
      'shrunk to the smallest burst: two concurrent calls',
    );
    assert.match(
      String(details.counterexample?.[0]),
      /schedule/,
      'the counterexample shows the scheduled interleaving',
    );
  });
});
