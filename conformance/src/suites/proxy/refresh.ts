/**
 * proxy-refresh: bursts of concurrent tool calls around upstream expiry cause exactly one upstream
 * refresh, no failed call and no replay of a rotated refresh token; downstream refresh tokens
 * rotate, and a replay outside the grace window is refused.
 */
import fc from 'fast-check';
import { grantDelta } from '../../control';
import { expect } from '../../errors';
import { describeMcp } from '../../mcp/client';
import { stringProp } from '../../oauth/json';
import { probe, proxyClient, tokensFrom } from '../../proxy/client';
import { sleep } from '../../time';
import type { Check } from '../../types';
import { OAUTH21, RFC } from '../links';
import { control, withAccessTokenTtl } from './common';

const suite = 'proxy-refresh';

export const proxyRefreshChecks: Check[] = [
  {
    id: 'proxy-refresh-single-flight',
    title:
      'A burst of concurrent calls after upstream expiry: one upstream refresh, no failed call, no replayed refresh token',
    clause: 'RFC 9700 §4.14.2; RFC 6749 §6',
    link: RFC(9700, '4.14.2'),
    level: 'MUST',
    suite,
    needs: ['proxy', 'upstream'],
    timeoutMs: 240_000,
    async run(ctx) {
      const tool = ctx.targets.proxy?.tool ?? 'listItems';
      const ctl = control(ctx);
      await ctx.property(
        [fc.integer({ min: 2, max: 500 }), fc.integer({ min: 0, max: 400 })],
        async (concurrency, afterExpiryMs) => {
          // Short-lived upstream tokens for the initial grant only: the refreshed token lives
          // long again, so the burst spans exactly one expiry.
          const session = await withAccessTokenTtl(ctx, 1, async () => {
            const client = await proxyClient(ctx);
            const tokens = await client.obtainTokens(ctx.signal);
            return client.session(tokens.accessToken, ctx.signal);
          });
          await sleep(2000 + afterExpiryMs, ctx.signal);
          const since = await ctl.lastSeq();
          const before = await ctl.counters();
          const results = await Promise.all(
            Array.from({ length: concurrency }, () => session.callTool(tool, {}, ctx.signal)),
          );
          const after = await ctl.counters();
          const events = await ctl.events(since);
          const failed = results.filter((r) => !r.ok);
          const refreshes = grantDelta(before, after, 'refresh_token').requests;
          const reused = events.filter(
            (e) => e.kind === 'token' && e.refresh_token_reused === true,
          ).length;
          const redeemed = new Set<string>();
          let replayed = 0;
          for (const event of events.filter((e) => e.kind === 'token' && e.refresh_token_sha256)) {
            if (redeemed.has(event.refresh_token_sha256 ?? '')) replayed += 1;
            if (event.status === 200) redeemed.add(event.refresh_token_sha256 ?? '');
          }
          expect(
            refreshes === 1,
            `${concurrency} concurrent calls after expiry made ${refreshes} upstream refresh requests (expected exactly 1)`,
          );
          expect(
            reused === 0 && replayed === 0,
            `a rotated upstream refresh token was replayed (${reused + replayed} time(s))`,
          );
          expect(
            failed.length === 0,
            `${failed.length} of ${concurrency} calls failed, e.g. ${failed[0] ? describeMcp(failed[0]) : ''}`,
          );
        },
        { maxRuns: 4 },
      );
    },
  },
  {
    id: 'proxy-refresh-downstream-rotation',
    title:
      'The proxy rotates its refresh tokens; the previous one replayed after the grace window is refused',
    clause: 'OAuth 2.1 §4.3.1; RFC 9700 §4.14.2',
    link: OAUTH21('4.3.1'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    timeoutMs: 180_000,
    async run(ctx) {
      const grace = ctx.targets.proxy?.refreshGrace ?? 0;
      const client = await proxyClient(ctx);
      const first = await client.obtainTokens(ctx.signal);
      expect(
        first.refreshToken,
        'the proxy issued no refresh token to a public client that asked for refresh_token',
      );
      const refreshed = await client.refresh(first.refreshToken, ctx.signal);
      const second = tokensFrom(refreshed.status, refreshed.body, 'first refresh');
      expect(
        second.refreshToken && second.refreshToken !== first.refreshToken,
        'the refresh token was not rotated',
      );
      if (grace > 0) {
        const inside = await client.refresh(first.refreshToken, ctx.signal);
        expect(
          inside.status === 200,
          `a replay inside the ${grace} s grace window was refused: ${inside.status} ${stringProp(inside.body, 'error') ?? ''}`,
        );
        ctx.note(`replay inside the ${grace} s grace window answered 200`);
        await sleep(grace * 1000 + 1000, ctx.signal);
      }
      const outside = await client.refresh(first.refreshToken, ctx.signal);
      expect(
        outside.status === 400 && stringProp(outside.body, 'error') === 'invalid_grant',
        `a replay of the rotated refresh token${grace > 0 ? ' after the grace window' : ''} answered ${outside.status} ${JSON.stringify(outside.body).slice(0, 120)}`,
      );
    },
  },
  {
    id: 'proxy-refresh-reuse-revokes-family',
    title: 'After a rotated refresh token is replayed, the newest one of that grant is revoked too',
    clause: 'RFC 9700 §4.14.2',
    link: RFC(9700, '4.14.2'),
    level: 'SHOULD',
    suite,
    needs: ['proxy'],
    timeoutMs: 180_000,
    async run(ctx) {
      const grace = ctx.targets.proxy?.refreshGrace ?? 0;
      const client = await proxyClient(ctx);
      const first = await client.obtainTokens(ctx.signal);
      expect(first.refreshToken, 'no refresh token issued');
      const rotated = await client.refresh(first.refreshToken, ctx.signal);
      const newest = stringProp(rotated.body, 'refresh_token');
      expect(rotated.status === 200 && newest, `first refresh answered ${rotated.status}`);
      if (grace > 0) await sleep(grace * 1000 + 1000, ctx.signal);
      await client.refresh(first.refreshToken, ctx.signal);
      const after = await client.refresh(newest, ctx.signal);
      expect(
        after.status === 400 && stringProp(after.body, 'error') === 'invalid_grant',
        `the newest refresh token still works after a replay (${after.status})`,
      );
    },
  },
  {
    id: 'proxy-refresh-upstream-invalid-grant',
    title:
      'An upstream invalid_grant on refresh ends the grant: the client gets 401 (re-authorize), no refresh loop',
    clause: 'RFC 6749 §5.2; MCP Authorization (Token Handling)',
    link: RFC(6749, '5.2'),
    level: 'SHOULD',
    suite,
    needs: ['proxy', 'upstream'],
    async run(ctx) {
      const tool = ctx.targets.proxy?.tool ?? 'listItems';
      const ctl = control(ctx);
      const { session, token, client } = await withAccessTokenTtl(ctx, 1, async () => {
        const client = await proxyClient(ctx);
        const tokens = await client.obtainTokens(ctx.signal);
        return {
          client,
          token: tokens.accessToken,
          session: await client.session(tokens.accessToken, ctx.signal),
        };
      });
      await sleep(2000, ctx.signal);
      await ctl.addFault({
        target: 'token',
        grant_type: 'refresh_token',
        kind: 'oauth_error',
        error: 'invalid_grant',
        times: 0,
      });
      try {
        const before = await ctl.counters();
        const first = await session.callTool(tool, {}, ctx.signal);
        const second = await session.callTool(tool, {}, ctx.signal);
        const after = await ctl.counters();
        const refreshes = grantDelta(before, after, 'refresh_token').requests;
        const again = await probe(client.discovery.mcpUrl, token, ctx.signal);
        const bearer = /^\s*bearer\b/i.test(first.headers.get('www-authenticate') ?? '');
        const problems = [
          first.status === 401
            ? ''
            : `the first call answered ${describeMcp(first)} instead of HTTP 401`,
          first.status !== 401 || bearer ? '' : 'its 401 has no Bearer challenge',
          second.status === 401 ? '' : `the second call answered HTTP ${second.status}`,
          refreshes === 1 ? '' : `${refreshes} upstream refresh attempts for one dead grant`,
          again.status === 401 ? '' : `the client's token still opens a session (${again.status})`,
        ].filter(Boolean);
        expect(problems.length === 0, `after an upstream invalid_grant: ${problems.join('; ')}`);
      } finally {
        await ctl.clearFaults();
      }
    },
  },
];
