import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Counters, ServerEvent } from '../src/recorder';
import type { RunningTestServer } from '../src/server';
import { api, codeFlow, control, start, tokenRequest } from './support';

describe('control API', () => {
  let server: RunningTestServer;
  before(async () => {
    server = await start({ autoApprove: true, controlToken: 'ctl_test' });
  });
  after(() => server.close());
  beforeEach(async () => {
    await control(server, 'POST', '/reset');
  });

  test('needs the control token', async () => {
    for (const authorization of [undefined, 'Bearer wrong', 'Basic ctl_test']) {
      const res = await fetch(`${server.url}/__control/state`, {
        headers: authorization ? { authorization } : {},
      });
      assert.equal(res.status, 401, String(authorization));
    }
  });

  test('state reports mode, issuer, TTLs, format and auto-approve', async () => {
    const { status, body } = await control(server, 'GET', '/state');
    assert.equal(status, 200);
    assert.deepEqual(body, {
      mode: 'oauth',
      issuer: server.issuer,
      accessTokenTtl: 3600,
      refreshTokenTtl: 86400,
      authorizationCodeTtl: 60,
      tokenFormat: 'jwt',
      autoApprove: true,
    });
  });

  test('counters count requests per endpoint and grant; events carry hashes and reuse', async () => {
    const first = await codeFlow(server);
    const rt = String(first.body.refresh_token);
    await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt });
    await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt });
    await tokenRequest(server, { grant_type: 'client_credentials' });
    await api(server, 'GET', '/api/items', { authorization: `Bearer ${first.body.access_token}` });
    await api(server, 'GET', '/api/users');

    const counters = (await control(server, 'GET', '/counters')).body as unknown as Counters;
    assert.equal(counters.endpoints.authorize, 1);
    assert.equal(counters.endpoints.token, 4);
    assert.equal(counters.endpoints['api:listItems'], 1);
    assert.equal(counters.endpoints['api:listUsers'], 1);
    assert.deepEqual(counters.grants.authorization_code, { requests: 1, ok: 1, errors: 0 });
    assert.deepEqual(counters.grants.refresh_token, { requests: 2, ok: 1, errors: 1 });
    assert.deepEqual(counters.grants.client_credentials, { requests: 1, ok: 1, errors: 0 });
    assert.equal(counters.errors.invalid_grant, 1);
    assert.equal(counters.errors.invalid_token, 1);

    const { events } = (await control(server, 'GET', '/events')).body as { events: ServerEvent[] };
    const refreshes = events.filter((e) => e.grant_type === 'refresh_token');
    assert.equal(refreshes.length, 2);
    assert.equal(refreshes[0]?.refresh_token_reused, false);
    assert.equal(refreshes[1]?.refresh_token_reused, true);
    assert.equal(refreshes[1]?.error, 'invalid_grant');
    assert.equal(refreshes[0]?.refresh_token_sha256, refreshes[1]?.refresh_token_sha256);
    assert.match(String(refreshes[0]?.refresh_token_sha256), /^[0-9a-f]{64}$/);
    const apiEvent = events.find((e) => e.kind === 'api' && e.status === 200);
    assert.match(String(apiEvent?.token_sha256), /^[0-9a-f]{64}$/);
    assert.equal(apiEvent?.client_id, 'test-client-id');
    const authorize = events.find((e) => e.kind === 'authorize');
    assert.equal(authorize?.client_id, 'test-client-id');

    const last = events.at(-1)?.seq ?? 0;
    await tokenRequest(server, { grant_type: 'client_credentials' });
    const later = (await control(server, 'GET', `/events?since=${last}`)).body as {
      events: ServerEvent[];
    };
    assert.equal(later.events.length, 1);
    assert.equal(later.events[0]?.grant_type, 'client_credentials');
  });

  test('reset clears counters, events, faults and TTLs', async () => {
    await tokenRequest(server, { grant_type: 'client_credentials' });
    await control(server, 'PUT', '/ttl', { accessToken: 7, refreshToken: 8, authorizationCode: 9 });
    await control(server, 'POST', '/faults', { target: 'api', kind: 'status', status: 500 });
    const reset = await control(server, 'POST', '/reset');
    assert.equal(reset.body.accessTokenTtl, 3600);
    assert.equal(reset.body.authorizationCodeTtl, 60);
    const counters = (await control(server, 'GET', '/counters')).body;
    assert.deepEqual(counters, { endpoints: {}, grants: {}, errors: {} });
    assert.deepEqual((await control(server, 'GET', '/events')).body, { events: [] });
    assert.deepEqual((await control(server, 'GET', '/faults')).body, { faults: [] });
  });

  test('TTL input is validated', async () => {
    for (const body of [
      { accessToken: 0 },
      { accessToken: 1.5 },
      { refreshToken: '5' },
      { idToken: 5 },
      [1],
    ]) {
      const res = await control(server, 'PUT', '/ttl', body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const ok = await control(server, 'PUT', '/ttl', { refreshToken: 2 });
    assert.equal(ok.body.refreshTokenTtl, 2);
  });

  test('revoke ends every token and grant of the client', async () => {
    const { body } = await codeFlow(server);
    const cc = await tokenRequest(server, { grant_type: 'client_credentials' });
    const revoked = await control(server, 'POST', '/revoke', { client_id: 'test-client-id' });
    assert.equal(revoked.status, 200);
    assert.ok(Number(revoked.body.revoked) >= 3, JSON.stringify(revoked.body));
    for (const token of [body.access_token, cc.body.access_token]) {
      const res = await api(server, 'GET', '/api/items', { authorization: `Bearer ${token}` });
      assert.equal(res.status, 401);
    }
    const refresh = await tokenRequest(server, {
      grant_type: 'refresh_token',
      refresh_token: String(body.refresh_token),
    });
    assert.equal(refresh.body.error, 'invalid_grant');
    const fresh = await tokenRequest(server, { grant_type: 'client_credentials' });
    assert.equal(
      (
        await api(server, 'GET', '/api/items', {
          authorization: `Bearer ${fresh.body.access_token}`,
        })
      ).status,
      200,
      'tokens issued afterwards work',
    );
    assert.equal((await control(server, 'POST', '/revoke', {})).status, 400);
  });

  test('an oauth_error fault on refresh fires exactly `times` times', async () => {
    const { body } = await codeFlow(server);
    const armed = await control(server, 'POST', '/faults', {
      target: 'token',
      grant_type: 'refresh_token',
      kind: 'oauth_error',
      error: 'invalid_grant',
      error_description: 'injected',
      times: 2,
    });
    assert.equal(armed.status, 201);
    assert.equal(armed.body.remaining, 2);
    assert.equal(armed.body.fired, 0);
    const cc = await tokenRequest(server, { grant_type: 'client_credentials' });
    assert.equal(cc.status, 200, 'other grant types are untouched');
    const rt = String(body.refresh_token);
    for (let i = 0; i < 2; i++) {
      const res = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { error: 'invalid_grant', error_description: 'injected' });
    }
    const third = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt });
    assert.equal(third.status, 200, 'the real token still works after the fault is spent');
    const { faults } = (await control(server, 'GET', '/faults')).body as {
      faults: Array<Record<string, unknown>>;
    };
    assert.equal(faults[0]?.fired, 2);
    assert.equal(faults[0]?.remaining, 0);
    const counters = (await control(server, 'GET', '/counters')).body as unknown as Counters;
    assert.deepEqual(counters.grants.refresh_token, { requests: 3, ok: 1, errors: 2 });
  });

  test('temporarily_unavailable, status, delay and drop faults on the token endpoint', async () => {
    await control(server, 'POST', '/faults', {
      target: 'token',
      kind: 'oauth_error',
      error: 'temporarily_unavailable',
    });
    const unavailable = await tokenRequest(server, { grant_type: 'client_credentials' });
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.body.error, 'temporarily_unavailable');

    await control(server, 'POST', '/faults', { target: 'token', kind: 'status', status: 502 });
    assert.equal((await tokenRequest(server, { grant_type: 'client_credentials' })).status, 502);

    await control(server, 'POST', '/faults', { target: 'token', kind: 'delay', delay_ms: 300 });
    const t0 = Date.now();
    const delayed = await tokenRequest(server, { grant_type: 'client_credentials' });
    assert.equal(delayed.status, 200);
    assert.ok(Date.now() - t0 >= 290, 'answered after the delay');

    await control(server, 'POST', '/faults', { target: 'token', kind: 'drop' });
    await assert.rejects(tokenRequest(server, { grant_type: 'client_credentials' }));
    assert.equal((await tokenRequest(server, { grant_type: 'client_credentials' })).status, 200);
  });

  test('API faults match a path prefix; times 0 lasts until cleared', async () => {
    const armed = await control(server, 'POST', '/faults', {
      target: 'api',
      path: '/api/users',
      kind: 'status',
      status: 500,
      times: 0,
    });
    assert.equal(armed.body.remaining, null);
    for (let i = 0; i < 3; i++) assert.equal((await api(server, 'GET', '/api/users')).status, 500);
    assert.equal((await api(server, 'GET', '/api/items')).status, 401, 'other paths are untouched');
    assert.equal((await control(server, 'DELETE', `/faults/${armed.body.id}`)).status, 204);
    assert.equal((await api(server, 'GET', '/api/users')).status, 401);
    assert.equal((await control(server, 'DELETE', `/faults/${armed.body.id}`)).status, 404);

    await control(server, 'POST', '/faults', {
      target: 'api',
      kind: 'oauth_error',
      error: 'invalid_token',
      status: 401,
    });
    const { body } = await tokenRequest(server, { grant_type: 'client_credentials' });
    const res = await api(server, 'GET', '/api/items', {
      authorization: `Bearer ${body.access_token}`,
    });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
    await control(server, 'POST', '/faults', { target: 'api', kind: 'status', status: 503 });
    assert.equal((await control(server, 'DELETE', '/faults')).status, 204);
    assert.equal(
      (await api(server, 'GET', '/api/items', { authorization: `Bearer ${body.access_token}` }))
        .status,
      200,
    );
  });

  test('a faulted request is counted once and logged once, with the fault id', async () => {
    const delay = await control(server, 'POST', '/faults', {
      target: 'token',
      kind: 'delay',
      delay_ms: 50,
    });
    const status = await control(server, 'POST', '/faults', {
      target: 'api',
      kind: 'status',
      status: 503,
    });
    await tokenRequest(server, { grant_type: 'client_credentials' });
    assert.equal((await api(server, 'GET', '/api/items/item-1')).status, 503);
    await assert.rejects(
      (async () => {
        await control(server, 'POST', '/faults', { target: 'api', kind: 'drop' });
        await api(server, 'GET', '/api/users');
      })(),
    );
    const counters = (await control(server, 'GET', '/counters')).body as unknown as Counters;
    assert.equal(counters.endpoints.token, 1);
    assert.equal(counters.endpoints['api:getItem'], 1);
    assert.equal(counters.endpoints['api:listUsers'], 1);
    assert.deepEqual(counters.grants.client_credentials, { requests: 1, ok: 1, errors: 0 });
    const { events } = (await control(server, 'GET', '/events')).body as { events: ServerEvent[] };
    assert.deepEqual(
      events.map((e) => [e.kind, e.status, e.fault_id !== undefined, e.error]),
      [
        ['token', 200, true, undefined],
        ['api', 503, true, 'injected_fault'],
        ['api', 0, true, 'connection_dropped'],
      ],
    );
    assert.equal(events[0]?.fault_id, delay.body.id);
    assert.equal(events[1]?.fault_id, status.body.id);
  });

  test('malformed faults are refused with a message naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ target: 'db', kind: 'drop' }, /target/],
      [{ target: 'token', kind: 'explode' }, /kind/],
      [{ target: 'token', kind: 'oauth_error' }, /error/],
      [{ target: 'token', kind: 'status' }, /status/],
      [{ target: 'token', kind: 'delay' }, /delay_ms/],
      [{ target: 'token', kind: 'drop', times: -1 }, /times/],
    ];
    for (const [body, message] of cases) {
      const res = await control(server, 'POST', '/faults', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(String(res.body.error_description), message);
    }
  });
});

describe('control API from another host', () => {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  test('answers 403 to non-loopback clients', {
    skip: external ? false : 'no non-loopback IPv4 interface here',
  }, async () => {
    const server = await start({ host: '0.0.0.0', controlToken: 'ctl_x' });
    try {
      const res = await fetch(`http://${external}:${server.port}/__control/state`, {
        headers: { authorization: 'Bearer ctl_x' },
      });
      assert.equal(res.status, 403);
      const local = await fetch(`http://127.0.0.1:${server.port}/__control/state`, {
        headers: { authorization: 'Bearer ctl_x' },
      });
      assert.equal(local.status, 200);
    } finally {
      await server.close();
    }
  });
});
