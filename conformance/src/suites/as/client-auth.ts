/** as-client-auth: a confidential client with a wrong secret gets 401 invalid_client. */
import fc from 'fast-check';
import { expect, SkipCheck } from '../../errors';
import { describeToken } from '../../oauth/client';
import { stringProp } from '../../oauth/json';
import type { Check } from '../../types';
import { RFC } from '../links';
import { asTarget, connect } from './common';

export const asClientAuthChecks: Check[] = [
  {
    id: 'as-client-auth-wrong-secret',
    title: 'A wrong client secret is refused with invalid_client (401 for HTTP Basic)',
    clause: 'RFC 6749 §5.2, §2.3.1',
    link: RFC(6749, '5.2'),
    level: 'MUST',
    suite: 'as-client-auth',
    needs: ['as'],
    async run(ctx) {
      const target = asTarget(ctx);
      if (!target.clientSecret || target.clientAuth === 'none')
        throw new SkipCheck('the client is public (no --client-secret)');
      const client = await connect(ctx);
      const real = target.clientSecret;
      const basic = target.clientAuth === 'client_secret_basic';
      await ctx.property(
        [fc.string({ minLength: 1, maxLength: 64 }).filter((s) => s !== real)],
        async (secret) => {
          const result = await client.token(
            {
              grant_type: 'authorization_code',
              code: 'conformance-invalid-code',
              redirect_uri: target.redirectUri,
            },
            { secret },
            ctx.signal,
          );
          const error = stringProp(result.body, 'error');
          expect(
            error === 'invalid_client',
            `expected error invalid_client, got ${describeToken(result)}`,
          );
          expect(
            basic ? result.status === 401 : [400, 401].includes(result.status),
            `expected ${basic ? '401' : '400/401'}, got ${result.status}`,
          );
          if (basic) expect(result.headers.get('www-authenticate'), '401 without WWW-Authenticate');
        },
        { maxRuns: 50 },
      );
    },
  },
];
