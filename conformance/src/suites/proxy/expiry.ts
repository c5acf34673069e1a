/**
 * proxy-expiry: for generated upstream TTLs and call times, tool calls after the upstream token
 * expired still succeed (the proxy refreshes); the proxy's own expired tokens get 401.
 */
import fc from 'fast-check';
import { expect, SkipCheck } from '../../errors';
import { describeMcp } from '../../mcp/client';
import { probe, proxyClient } from '../../proxy/client';
import { sleep } from '../../time';
import type { Check } from '../../types';
import { MCP_AUTH, RFC } from '../links';
import { withAccessTokenTtl } from './common';

const suite = 'proxy-expiry';
/** The longest the own-token check waits for a proxy token to expire. */
const OWN_TOKEN_WAIT_S = 10;

export const proxyExpiryChecks: Check[] = [
  {
    id: 'proxy-expiry-upstream-refresh',
    title: 'Tool calls made after the upstream access token expired succeed through refresh',
    clause: 'RFC 6749 §6; MCP Authorization (Token Handling)',
    link: RFC(6749, '6'),
    level: 'MUST',
    suite,
    needs: ['proxy', 'upstream'],
    timeoutMs: 180_000,
    async run(ctx) {
      const tool = ctx.targets.proxy?.tool ?? 'listItems';
      await ctx.property(
        [
          fc.integer({ min: 1, max: 2 }),
          fc.integer({ min: 0, max: 1500 }),
          fc.integer({ min: 1, max: 3 }),
        ],
        async (ttl, afterExpiryMs, calls) => {
          await withAccessTokenTtl(ctx, ttl, async () => {
            const client = await proxyClient(ctx);
            const tokens = await client.obtainTokens(ctx.signal);
            const session = await client.session(tokens.accessToken, ctx.signal);
            await sleep(ttl * 1000 + 1000 + afterExpiryMs, ctx.signal);
            for (let i = 0; i < calls; i += 1) {
              const result = await session.callTool(tool, {}, ctx.signal);
              expect(
                result.ok,
                `call #${i + 1} after the upstream token expired failed: ${describeMcp(result)}`,
              );
            }
          });
        },
        { maxRuns: 3 },
      );
    },
  },
  {
    id: 'proxy-expiry-own-token',
    title: "The proxy's own expired access token gets 401 with WWW-Authenticate",
    clause: 'MCP Authorization (Token Handling); RFC 6750 §3.1',
    link: MCP_AUTH('token-handling'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const tokens = await client.obtainTokens(ctx.signal);
      if (tokens.expiresIn === undefined || tokens.expiresIn > OWN_TOKEN_WAIT_S) {
        throw new SkipCheck(
          `the proxy's access tokens live ${tokens.expiresIn ?? 'an unknown number of'} s, longer than this check waits (${OWN_TOKEN_WAIT_S} s)`,
        );
      }
      await sleep(tokens.expiresIn * 1000 + 1000, ctx.signal);
      const challenge = await probe(client.discovery.mcpUrl, tokens.accessToken, ctx.signal);
      expect(challenge.status === 401, `an expired proxy token answered ${challenge.status}`);
      expect(
        challenge.header && /^\s*bearer\b/i.test(challenge.header),
        `WWW-Authenticate is ${JSON.stringify(challenge.header)}`,
      );
    },
  },
];
