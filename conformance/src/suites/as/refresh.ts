/** as-refresh: refresh tokens rotate, and a rotated one is refused when replayed. */
import fc from 'fast-check';
import { expect, SkipCheck } from '../../errors';
import type { AsClient } from '../../oauth/client';
import type { Check, CheckContext } from '../../types';
import { OAUTH21, RFC } from '../links';
import { connect, expectOAuthError, expectTokens } from './common';

const suite = 'as-refresh';

async function initialRefreshToken(client: AsClient, ctx: CheckContext): Promise<string> {
  const { code, verifier } = await client.authorizeWithPkce(ctx.signal);
  const tokens = expectTokens(
    await client.exchangeCode(code, verifier, ctx.signal),
    'code exchange',
  );
  if (!tokens.refreshToken) {
    throw new SkipCheck(
      `the AS issued no refresh token for scope ${JSON.stringify(client.scope() ?? '')} (set --scope)`,
    );
  }
  return tokens.refreshToken;
}

/** Refreshes `times` times, returning every refresh token seen, oldest first. */
async function rotate(
  client: AsClient,
  first: string,
  times: number,
  ctx: CheckContext,
): Promise<string[]> {
  const chain = [first];
  for (let i = 0; i < times; i += 1) {
    const current = chain[chain.length - 1] ?? first;
    const tokens = expectTokens(await client.refresh(current, ctx.signal), `refresh #${i + 1}`);
    chain.push(tokens.refreshToken ?? current);
  }
  return chain;
}

export const asRefreshChecks: Check[] = [
  {
    id: 'as-refresh-rotation',
    title: 'Each refresh returns a new refresh token',
    clause: 'OAuth 2.1 §4.3.1; RFC 9700 §4.14.2',
    link: OAUTH21('4.3.1'),
    level: 'SHOULD',
    suite,
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      await ctx.property(
        [fc.integer({ min: 1, max: 4 })],
        async (times) => {
          const chain = await rotate(client, await initialRefreshToken(client, ctx), times, ctx);
          expect(
            new Set(chain).size === chain.length,
            `after ${times} refreshes only ${new Set(chain).size} distinct refresh tokens`,
          );
        },
        { maxRuns: 5 },
      );
    },
  },
  {
    id: 'as-refresh-replay-rejected',
    title: 'A rotated-out refresh token is refused with invalid_grant',
    clause: 'RFC 9700 §4.14.2; OAuth 2.1 §4.3.1',
    link: RFC(9700, '4.14.2'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      const probe = await rotate(client, await initialRefreshToken(client, ctx), 1, ctx);
      if (probe[0] === probe[1])
        throw new SkipCheck('the AS does not rotate refresh tokens (see as-refresh-rotation)');
      await ctx.property(
        [fc.integer({ min: 1, max: 4 }), fc.nat()],
        async (times, pick) => {
          const chain = await rotate(client, await initialRefreshToken(client, ctx), times, ctx);
          const replayed = chain[pick % (chain.length - 1)] ?? '';
          expectOAuthError(
            await client.refresh(replayed, ctx.signal),
            ['invalid_grant'],
            `replay of refresh token #${pick % (chain.length - 1)} of ${times + 1}`,
          );
        },
        { maxRuns: 5 },
      );
    },
  },
];
