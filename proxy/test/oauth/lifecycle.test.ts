import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  GrantError,
  needsRefresh,
  oauthCredentials,
  refreshSkewMs,
  TokenLifecycle,
} from '../../src/oauth/lifecycle';
import { UpstreamOAuth } from '../../src/oauth/upstream';
import type { CallContext } from '../../src/types';
import {
  json,
  oauthWorkspace,
  type TempStore,
  TOKEN_URL,
  tempStore,
  tokenEndpoint,
} from './support';

const T0 = 1_800_000_000_000;

describe('refresh skew', () => {
  test('60 s, or 10% of the lifetime when that is less', () => {
    assert.equal(
      refreshSkewMs({ accessToken: 'a', obtainedAt: T0, expiresAt: T0 + 3_600_000 }),
      60_000,
    );
    assert.equal(refreshSkewMs({ accessToken: 'a', obtainedAt: T0, expiresAt: T0 + 2_000 }), 200);
    assert.equal(
      needsRefresh({ accessToken: 'a', obtainedAt: T0, expiresAt: T0 + 2_000 }, T0 + 1_799),
      false,
    );
    assert.equal(
      needsRefresh({ accessToken: 'a', obtainedAt: T0, expiresAt: T0 + 2_000 }, T0 + 1_800),
      true,
    );
    assert.equal(needsRefresh({ accessToken: 'a', obtainedAt: T0 }, T0 + 10 ** 9), false);
  });
});

describe('TokenLifecycle', () => {
  let temp: TempStore;
  let now: number;
  const workspace = oauthWorkspace();

  beforeEach(() => {
    temp = tempStore();
    now = T0;
  });
  afterEach(() => temp.close());

  const setup = (fetchFn: typeof fetch, extra: { sleeps?: number[] } = {}) => {
    const upstream = new UpstreamOAuth({
      repo: temp.repo,
      callbackUrl: 'http://localhost:8080/oauth/callback',
      fetch: fetchFn,
      clock: () => now,
    });
    return new TokenLifecycle({
      repo: temp.repo,
      upstream,
      clock: () => now,
      sleep: async (ms) => {
        extra.sleeps?.push(ms);
      },
    });
  };

  const seedGrant = (id = 'grant-1', expiresIn = 3_600_000) => {
    temp.repo.createGrant({
      id,
      workspaceId: workspace.id,
      clientId: 'mcp-client',
      scopes: ['items:read'],
      upstream: {
        accessToken: 'at-0',
        refreshToken: 'rt-0',
        obtainedAt: now,
        expiresAt: now + expiresIn,
      },
      upstreamVersion: 0,
      createdAt: now,
    });
    return id;
  };

  test('a fresh token is used as is, without any upstream request', async () => {
    const { endpoint, requests } = tokenEndpoint();
    const lifecycle = setup(endpoint as typeof fetch);
    seedGrant();
    assert.equal(await lifecycle.grantAccessToken(workspace, 'grant-1'), 'at-0');
    assert.equal(requests.length, 0);
  });

  test('single-flight: any interleaving of concurrent calls on an expired grant makes one refresh', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 40 }), async (s, calls) => {
        temp.repo.db.prepare('DELETE FROM oauth_grants').run();
        const { endpoint, requests } = tokenEndpoint();
        const lifecycle = setup(s.scheduleFunction(endpoint) as typeof fetch);
        seedGrant('grant-1', 1_000);
        now = T0 + 5_000;
        const credentials = oauthCredentials(lifecycle);
        const results = Array.from({ length: calls }, () =>
          s
            .schedule(Promise.resolve())
            .then(() => credentials.headers({ workspace, grantId: 'grant-1' })),
        );
        const headers = await s.waitFor(Promise.all(results));
        assert.equal(requests.length, 1);
        assert.equal(requests[0]?.get('refresh_token'), 'rt-0');
        for (const h of headers) assert.equal(h.Authorization, 'Bearer at-1');
        const stored = temp.repo.getGrant('grant-1')?.upstream;
        assert.equal(stored?.refreshToken, 'rt-1', 'the rotated refresh token is persisted');
        now = T0;
      }),
      { seed: 4242, numRuns: 60 },
    );
  });

  test('two proxy processes on one store: still one upstream refresh (lease), both get the new token', async () => {
    seedGrant('grant-1', 1_000);
    now = T0 + 5_000;
    let calls = 0;
    const strict = async (_url: string | URL | Request, init?: RequestInit) => {
      calls += 1;
      const presented = new URLSearchParams(String(init?.body ?? '')).get('refresh_token');
      await new Promise((r) => setTimeout(r, 30));
      if (presented !== 'rt-0') return json({ error: 'invalid_grant' }, 400);
      return json({
        access_token: 'at-1',
        refresh_token: 'rt-1',
        token_type: 'Bearer',
        expires_in: 3600,
      });
    };
    const first = setup(strict as typeof fetch);
    const second = setup(strict as typeof fetch);
    const tokens = await Promise.all([
      first.grantAccessToken(workspace, 'grant-1'),
      second.grantAccessToken(workspace, 'grant-1'),
      first.grantAccessToken(workspace, 'grant-1'),
      second.grantAccessToken(workspace, 'grant-1'),
    ]);
    assert.deepEqual(tokens, ['at-1', 'at-1', 'at-1', 'at-1']);
    assert.equal(calls, 1);
    assert.equal(temp.repo.getGrant('grant-1')?.revokedAt, undefined);
  });

  test('the rotated refresh token is in the store before the new access token is handed out', async () => {
    seedGrant('grant-1', 1_000);
    now = T0 + 5_000;
    const { endpoint } = tokenEndpoint();
    const lifecycle = setup(endpoint as typeof fetch);
    const token = await lifecycle.grantAccessToken(workspace, 'grant-1');
    const stored = temp.repo.getGrant('grant-1')?.upstream;
    assert.equal(token, 'at-1');
    assert.deepEqual([stored?.accessToken, stored?.refreshToken], ['at-1', 'rt-1']);
  });

  test('an upstream 401 refreshes once for all calls that saw it', async () => {
    seedGrant();
    const { endpoint, requests } = tokenEndpoint();
    const credentials = oauthCredentials(setup(endpoint as typeof fetch));
    const contexts: CallContext[] = Array.from({ length: 5 }, () => ({
      workspace,
      grantId: 'grant-1',
    }));
    for (const ctx of contexts) await credentials.headers(ctx);
    const retried = await Promise.all(contexts.map((ctx) => credentials.onUnauthorized?.(ctx)));
    assert.deepEqual(retried, [true, true, true, true, true]);
    assert.equal(requests.length, 1);
    assert.deepEqual(await credentials.headers(contexts[0] as CallContext), {
      Authorization: 'Bearer at-1',
    });
  });

  test('5xx on refresh: bounded retries with backoff, then success', async () => {
    seedGrant('grant-1', 1_000);
    now = T0 + 5_000;
    let calls = 0;
    const sleeps: number[] = [];
    const flaky = async () => {
      calls += 1;
      if (calls <= 2) return new Response('busy', { status: 503 });
      return json({
        access_token: 'at-new',
        refresh_token: 'rt-new',
        token_type: 'Bearer',
        expires_in: 60,
      });
    };
    const lifecycle = setup(flaky as typeof fetch, { sleeps });
    assert.equal(await lifecycle.grantAccessToken(workspace, 'grant-1'), 'at-new');
    assert.equal(calls, 3);
    assert.deepEqual(sleeps, [200, 400]);
  });

  test('upstream down: the old token is used while it is still valid, then the call fails (grant kept)', async () => {
    seedGrant('grant-1', 100_000);
    let calls = 0;
    const down = async () => {
      calls += 1;
      return new Response('down', { status: 502 });
    };
    const lifecycle = setup(down as typeof fetch);
    now = T0 + 95_000; // inside the skew window, not yet expired
    assert.equal(await lifecycle.grantAccessToken(workspace, 'grant-1'), 'at-0');
    assert.equal(calls, 4, 'one attempt and three retries');
    now = T0 + 100_001;
    await assert.rejects(lifecycle.grantAccessToken(workspace, 'grant-1'), {
      name: 'GrantError',
      code: 'ERR_UPSTREAM_UNAVAILABLE',
    });
    assert.equal(temp.repo.getGrant('grant-1')?.revokedAt, undefined);
  });

  test('invalid_grant on refresh is terminal: the grant is revoked and not retried', async () => {
    seedGrant('grant-1', 1_000);
    now = T0 + 5_000;
    let calls = 0;
    // Counts token requests only: dropping the grant also looks for a revocation endpoint.
    const refusing = async (url: string | URL | Request) => {
      if (String(url) === TOKEN_URL) calls += 1;
      return json({ error: 'invalid_grant', error_description: 'expired' }, 400);
    };
    const lifecycle = setup(refusing as typeof fetch);
    await assert.rejects(lifecycle.grantAccessToken(workspace, 'grant-1'), (error: unknown) => {
      assert.ok(error instanceof GrantError);
      assert.equal(error.code, 'ERR_GRANT_REVOKED');
      return true;
    });
    await assert.rejects(lifecycle.grantAccessToken(workspace, 'grant-1'), {
      code: 'ERR_GRANT_REVOKED',
    });
    assert.equal(calls, 1);
    const grant = temp.repo.getGrant('grant-1');
    assert.notEqual(grant?.revokedAt, undefined);
    assert.equal(grant?.upstream, undefined, 'the upstream tokens are dropped');
  });

  test('client_credentials: one service token per workspace, fetched once for concurrent calls', async () => {
    const service = oauthWorkspace({ grant: 'client_credentials' }, 'ws-service');
    const { endpoint, requests } = tokenEndpoint();
    const credentials = oauthCredentials(setup(endpoint as typeof fetch));
    const headers = await Promise.all(
      Array.from({ length: 10 }, () => credentials.headers({ workspace: service })),
    );
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.get('grant_type'), 'client_credentials');
    assert.equal(requests[0]?.get('scope'), 'items:read');
    for (const h of headers) assert.equal(h.Authorization, 'Bearer at-1');
  });
});

describe('OAuthRepository.purgeExpired', () => {
  test('drops what can no longer be used, keeps live grants', () => {
    const temp = tempStore();
    try {
      const { repo } = temp;
      const day = 86_400_000;
      const grant = (id: string, createdAt: number) =>
        repo.createGrant({
          id,
          workspaceId: 'ws',
          clientId: 'c',
          scopes: [],
          upstreamVersion: 0,
          createdAt,
        });
      const token = (hash: string, grantId: string, expiresAt: number) =>
        repo.saveToken({
          tokenHash: hash,
          kind: 'refresh',
          grantId,
          clientId: 'c',
          workspaceId: 'ws',
          scopes: [],
          expiresAt,
          createdAt: T0,
        });
      grant('live', T0 - 10 * day);
      token('live-rt', 'live', T0 + day);
      grant('revoked', T0 - 10 * day);
      repo.revokeGrant('revoked', T0 - 2 * day);
      grant('orphan', T0 - 10 * day);
      token('old-rt', 'orphan', T0 - 3 * day);
      grant('new', T0);
      repo.purgeExpired(T0);
      const left = repo.db.prepare('SELECT id FROM oauth_grants ORDER BY id').pluck().all();
      assert.deepEqual(left, ['live', 'new']);
      assert.equal(repo.getToken('old-rt'), undefined);
      assert.ok(repo.getToken('live-rt'));
    } finally {
      temp.close();
    }
  });
});
