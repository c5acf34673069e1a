/** as-expiry: an authorization code presented after its lifetime is refused (needs the upstream's TTL control). */
import { ControlClient } from '../../control';
import { SkipCheck } from '../../errors';
import { discoverAs } from '../../oauth/discovery';
import { sleep } from '../../time';
import type { Check } from '../../types';
import { OAUTH21 } from '../links';
import { asTarget, connect, expectOAuthError, expectTokens } from './common';

export const asExpiryChecks: Check[] = [
  {
    id: 'as-expiry-code',
    title: 'An authorization code redeemed after it expired is refused (invalid_grant)',
    clause: 'OAuth 2.1 §4.1.2; RFC 6749 §4.1.2',
    link: OAUTH21('4.1.2'),
    level: 'MUST',
    suite: 'as-expiry',
    needs: ['as', 'upstream'],
    async run(ctx) {
      const upstream = ctx.targets.upstream;
      if (!upstream) throw new Error('no upstream target');
      const { metadata } = await discoverAs(upstream.url, ctx.signal);
      if (metadata.issuer !== asTarget(ctx).issuer) {
        throw new SkipCheck(
          'the authorization server is not the instrumented upstream, so its code lifetime cannot be set',
        );
      }
      const control = new ControlClient(upstream);
      const state = await control.state();
      const previous =
        typeof state.authorizationCodeTtl === 'number' ? state.authorizationCodeTtl : 60;
      await control.setTtl({ authorizationCode: 1 });
      try {
        const client = await connect(ctx);
        const fresh = await client.authorizeWithPkce(ctx.signal);
        expectTokens(
          await client.exchangeCode(fresh.code, fresh.verifier, ctx.signal),
          'a code redeemed at once',
        );
        const stale = await client.authorizeWithPkce(ctx.signal);
        await sleep(2200, ctx.signal);
        expectOAuthError(
          await client.exchangeCode(stale.code, stale.verifier, ctx.signal),
          ['invalid_grant'],
          'a code redeemed 2.2 s after a 1 s lifetime',
        );
      } finally {
        await control.setTtl({ authorizationCode: previous });
      }
    },
  },
];
