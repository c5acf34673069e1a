import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { MockAgent } from 'undici';
import type { CallContext, UpstreamCredentials, Workspace } from '../../src/types';
import { executeUpstream, UpstreamError } from '../../src/upstream/execute';
import { staticCredentials } from '../../src/upstream/static-credentials';

const origin = 'http://upstream.test';
const ctx = { workspace: { id: 'ws' } as Workspace } satisfies CallContext;
const bearer = staticCredentials({ type: 'bearer', token: 'upstream-secret' });

describe('executeUpstream', () => {
  let agent: MockAgent;
  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
  });
  afterEach(async () => {
    agent.assertNoPendingInterceptors();
    await agent.close();
  });

  test('attaches credentials, sends method, headers and body, returns status and body', async () => {
    agent
      .get(origin)
      .intercept({
        path: '/api/items?limit=2',
        method: 'POST',
        headers: {
          authorization: 'Bearer upstream-secret',
          'content-type': 'application/json',
          'x-trace': 'abc',
        },
        body: '{"name":"a"}',
      })
      .reply(201, { id: '1' }, { headers: { 'content-type': 'application/json' } });

    let t = 1000;
    const res = await executeUpstream(
      {
        method: 'POST',
        url: `${origin}/api/items?limit=2`,
        headers: { 'Content-Type': 'application/json', 'X-Trace': 'abc' },
        body: '{"name":"a"}',
      },
      bearer,
      ctx,
      { dispatcher: agent, now: () => (t += 5) },
    );
    assert.equal(res.status, 201);
    assert.equal(res.body, '{"id":"1"}');
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.durationMs, 5);
  });

  test('an Authorization header in the tool request never reaches the upstream', async () => {
    const seen: Array<Record<string, string>> = [];
    agent
      .get(origin)
      .intercept({ path: '/x', method: 'GET' })
      .reply(200, (opts) => {
        seen.push(opts.headers as Record<string, string>);
        return 'ok';
      })
      .times(2);
    const request = {
      method: 'GET' as const,
      url: `${origin}/x`,
      headers: { Authorization: 'Bearer mcp-client-token', host: 'evil.example' },
    };
    await executeUpstream(request, staticCredentials({ type: 'none' }), ctx, {
      dispatcher: agent,
    });
    await executeUpstream(request, bearer, ctx, { dispatcher: agent });
    const [none, withBearer] = seen.map((h) =>
      Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v])),
    );
    assert.equal(none?.authorization, undefined);
    assert.equal(none?.host, undefined);
    assert.equal(withBearer?.authorization, 'Bearer upstream-secret');
  });

  test('4xx and 5xx are answers, not failures', async () => {
    agent.get(origin).intercept({ path: '/missing' }).reply(404, 'not here');
    const res = await executeUpstream(
      { method: 'GET', url: `${origin}/missing`, headers: {} },
      bearer,
      ctx,
      { dispatcher: agent },
    );
    assert.equal(res.status, 404);
    assert.equal(res.body, 'not here');
  });

  test('a 401 retries once with fresh credentials when onUnauthorized says so', async () => {
    let token = 'old';
    let renewals = 0;
    const creds: UpstreamCredentials = {
      headers: async () => ({ Authorization: `Bearer ${token}` }),
      onUnauthorized: async () => {
        renewals++;
        token = 'new';
        return true;
      },
    };
    const pool = agent.get(origin);
    pool.intercept({ path: '/r', headers: { authorization: 'Bearer old' } }).reply(401, 'expired');
    pool.intercept({ path: '/r', headers: { authorization: 'Bearer new' } }).reply(200, 'fresh');
    const res = await executeUpstream(
      { method: 'GET', url: `${origin}/r`, headers: {} },
      creds,
      ctx,
      { dispatcher: agent },
    );
    assert.equal(res.status, 200);
    assert.equal(res.body, 'fresh');
    assert.equal(renewals, 1);
  });

  test('a second 401 is returned, not retried again; no renewal means no retry', async () => {
    let renewals = 0;
    const renewing: UpstreamCredentials = {
      headers: async () => ({ Authorization: 'Bearer t' }),
      onUnauthorized: async () => {
        renewals++;
        return true;
      },
    };
    agent.get(origin).intercept({ path: '/r' }).reply(401, 'no').times(2);
    const res = await executeUpstream(
      { method: 'GET', url: `${origin}/r`, headers: {} },
      renewing,
      ctx,
      { dispatcher: agent },
    );
    assert.equal(res.status, 401);
    assert.equal(renewals, 1);

    agent.get(origin).intercept({ path: '/s' }).reply(401, 'no');
    const declined: UpstreamCredentials = { ...renewing, onUnauthorized: async () => false };
    const res2 = await executeUpstream(
      { method: 'GET', url: `${origin}/s`, headers: {} },
      declined,
      ctx,
      { dispatcher: agent },
    );
    assert.equal(res2.status, 401);
  });

  test('a finished call leaves no timer and no abort listener behind', async () => {
    agent.get(origin).intercept({ path: '/quick' }).reply(200, 'ok').times(20);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const controller = new AbortController();
    let listeners = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    const before = timers();
    for (let i = 0; i < 20; i++) {
      await executeUpstream(
        { method: 'GET', url: `${origin}/quick`, headers: {} },
        bearer,
        { ...ctx, signal },
        { dispatcher: agent, timeoutMs: 600_000 },
      );
    }
    assert.equal(timers(), before);
    assert.equal(listeners, 0);
  });

  test('a slow upstream fails with UPSTREAM_TIMEOUT', async () => {
    agent.get(origin).intercept({ path: '/slow' }).reply(200, 'late').delay(2_000);
    await assert.rejects(
      executeUpstream({ method: 'GET', url: `${origin}/slow`, headers: {} }, bearer, ctx, {
        dispatcher: agent,
        timeoutMs: 50,
      }),
      (error: unknown) => {
        assert.ok(error instanceof UpstreamError);
        assert.equal(error.code, 'UPSTREAM_TIMEOUT');
        assert.equal(error.message, 'upstream did not answer within 50 ms');
        return true;
      },
    );
  });

  test('a response past the size cap fails with UPSTREAM_RESPONSE_TOO_LARGE', async () => {
    agent
      .get(origin)
      .intercept({ path: '/big' })
      .reply(200, 'x'.repeat(2_000), { headers: { 'content-length': '2000' } });
    agent.get(origin).intercept({ path: '/big-chunked' }).reply(200, 'y'.repeat(2_000));
    for (const path of ['/big', '/big-chunked']) {
      await assert.rejects(
        executeUpstream({ method: 'GET', url: `${origin}${path}`, headers: {} }, bearer, ctx, {
          dispatcher: agent,
          maxResponseBytes: 1_000,
        }),
        { name: 'UpstreamError', code: 'UPSTREAM_RESPONSE_TOO_LARGE' },
      );
    }
  });

  test('the caller cancelling fails with UPSTREAM_ABORTED', async () => {
    agent.get(origin).intercept({ path: '/slow' }).reply(200, 'late').delay(2_000);
    const controller = new AbortController();
    const call = executeUpstream(
      { method: 'GET', url: `${origin}/slow`, headers: {} },
      bearer,
      { ...ctx, signal: controller.signal },
      { dispatcher: agent },
    );
    controller.abort();
    await assert.rejects(call, { name: 'UpstreamError', code: 'UPSTREAM_ABORTED' });
  });

  test('an unreachable upstream fails with UPSTREAM_UNREACHABLE and no credential in the message', async () => {
    agent.get(origin).intercept({ path: '/down' }).replyWithError(new Error('ECONNREFUSED'));
    await assert.rejects(
      executeUpstream({ method: 'GET', url: `${origin}/down`, headers: {} }, bearer, ctx, {
        dispatcher: agent,
      }),
      (error: unknown) => {
        assert.ok(error instanceof UpstreamError);
        assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
        assert.doesNotMatch(error.message, /upstream-secret/);
        return true;
      },
    );
  });

  test('credentials that cannot be produced fail with UPSTREAM_CREDENTIALS before any request', async () => {
    const broken: UpstreamCredentials = {
      headers: async () => {
        throw new Error('no grant');
      },
    };
    await assert.rejects(
      executeUpstream({ method: 'GET', url: `${origin}/x`, headers: {} }, broken, ctx, {
        dispatcher: agent,
      }),
      { name: 'UpstreamError', code: 'UPSTREAM_CREDENTIALS' },
    );
  });
});
