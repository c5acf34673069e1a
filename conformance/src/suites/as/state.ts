/** as-state: the client's `state` comes back byte-exact for any value RFC 6749 allows. */
import fc from 'fast-check';
import { expect } from '../../errors';
import { describeOutcome } from '../../oauth/client';
import { randomVerifier, s256 } from '../../oauth/pkce';
import type { Check } from '../../types';
import { RFC } from '../links';
import { connect } from './common';

/** RFC 6749 Appendix A.5: state = 1*VSCHAR (%x20-7E). */
export function stateArbitrary(): fc.Arbitrary<string> {
  const vschar = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
  return fc.string({ unit: vschar, minLength: 1, maxLength: 128 });
}

export const asStateChecks: Check[] = [
  {
    id: 'as-state-roundtrip',
    title: 'The authorization response returns the client state byte-exact',
    clause: 'RFC 6749 §4.1.2',
    link: RFC(6749, '4.1.2'),
    level: 'MUST',
    suite: 'as-state',
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      await ctx.property(
        [stateArbitrary()],
        async (state) => {
          const verifier = randomVerifier();
          const outcome = await client.authorize(
            { state, code_challenge: s256(verifier), code_challenge_method: 'S256' },
            undefined,
            ctx.signal,
          );
          expect(outcome.kind === 'code', `authorization failed: ${describeOutcome(outcome)}`);
          const returned = outcome.params.get('state');
          expect(
            returned === state,
            `state came back as ${JSON.stringify(returned)} for ${JSON.stringify(state)}`,
          );
        },
        { maxRuns: 25 },
      );
    },
  },
];
