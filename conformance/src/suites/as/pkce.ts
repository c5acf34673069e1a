/**
 * as-pkce: for generated verifiers the right one succeeds; wrong, missing and `plain` verifiers and
 * malformed challenges fail with the error RFC 7636 names; codes are single-use.
 */
import fc from 'fast-check';
import { CheckFailure, expect } from '../../errors';
import { type AsClient, describeOutcome, describeToken } from '../../oauth/client';
import { s256, UNRESERVED, verifierArbitrary } from '../../oauth/pkce';
import type { Check, CheckContext } from '../../types';
import { OAUTH21, RFC } from '../links';
import { connect, expectOAuthError, expectTokens } from './common';

const suite = 'as-pkce';
/** Each case is a full browser authorization, so properties here run fewer cases. */
const FLOW_RUNS = 25;

async function codeFor(client: AsClient, verifier: string, ctx: CheckContext): Promise<string> {
  const outcome = await client.authorize(
    { code_challenge: s256(verifier), code_challenge_method: 'S256' },
    undefined,
    ctx.signal,
  );
  if (outcome.kind !== 'code')
    throw new CheckFailure(
      `authorization with a valid S256 challenge failed: ${describeOutcome(outcome)}`,
    );
  return outcome.code;
}

/** Challenges outside RFC 7636 §4.2's ABNF: wrong length, or a character outside the unreserved set. */
function malformedChallenge(): fc.Arbitrary<string> {
  const unreserved = fc.constantFrom(...UNRESERVED);
  const foreign = fc.constantFrom('+', '/', '=', '!', '*', ' ', '%', '"', ':', '?', '#', '\u00e9');
  return fc.oneof(
    fc.string({ unit: unreserved, minLength: 1, maxLength: 42 }),
    fc.string({ unit: unreserved, minLength: 129, maxLength: 160 }),
    fc
      .tuple(fc.string({ unit: unreserved, minLength: 43, maxLength: 100 }), foreign, fc.nat())
      .map(([base, bad, at]) => {
        const i = at % base.length;
        return base.slice(0, i) + bad + base.slice(i + 1);
      }),
  );
}

export const asPkceChecks: Check[] = [
  {
    id: 'as-pkce-verifier-accepted',
    title: 'For any valid verifier, the matching S256 verifier gets tokens',
    clause: 'RFC 7636 §4.5, §4.6',
    link: RFC(7636, '4.6'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      await ctx.property(
        [verifierArbitrary()],
        async (verifier) => {
          const code = await codeFor(client, verifier, ctx);
          expectTokens(
            await client.exchangeCode(code, verifier, ctx.signal),
            'exchange with the right verifier',
          );
        },
        { maxRuns: FLOW_RUNS },
      );
    },
  },
  {
    id: 'as-pkce-code-single-use',
    title: 'An authorization code redeemed once is refused the second time (invalid_grant)',
    clause: 'RFC 6749 §4.1.2; OAuth 2.1 §4.1.3',
    link: OAUTH21('4.1.3'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      await ctx.property(
        [verifierArbitrary()],
        async (verifier) => {
          const code = await codeFor(client, verifier, ctx);
          expectTokens(await client.exchangeCode(code, verifier, ctx.signal), 'first exchange');
          expectOAuthError(
            await client.exchangeCode(code, verifier, ctx.signal),
            ['invalid_grant'],
            'second exchange of the same code',
          );
        },
        { maxRuns: 10 },
      );
    },
  },
  {
    id: 'as-pkce-wrong-verifier',
    title: 'A different valid verifier is refused with invalid_grant',
    clause: 'RFC 7636 §4.6',
    link: RFC(7636, '4.6'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      await ctx.property(
        [fc.tuple(verifierArbitrary(), verifierArbitrary()).filter(([a, b]) => a !== b)],
        async ([verifier, wrong]) => {
          const code = await codeFor(client, verifier, ctx);
          expectOAuthError(
            await client.exchangeCode(code, wrong, ctx.signal),
            ['invalid_grant'],
            'exchange with a wrong verifier',
          );
        },
        { maxRuns: FLOW_RUNS },
      );
    },
  },
  {
    id: 'as-pkce-missing-verifier',
    title: 'A code issued for a challenge is refused without code_verifier',
    clause: 'RFC 7636 §4.6; OAuth 2.1 §4.1.3',
    link: OAUTH21('4.1.3'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      await ctx.property(
        [verifierArbitrary()],
        async (verifier) => {
          const code = await codeFor(client, verifier, ctx);
          expectOAuthError(
            await client.exchangeCode(code, undefined, ctx.signal),
            ['invalid_grant', 'invalid_request'],
            'exchange without code_verifier',
          );
        },
        { maxRuns: 10 },
      );
    },
  },
  {
    id: 'as-pkce-plain-rejected',
    title: 'code_challenge_method=plain is refused at the authorization endpoint (invalid_request)',
    clause: 'RFC 7636 §4.4.1; OAuth 2.1 §4.1.1',
    link: RFC(7636, '4.4.1'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      await ctx.property(
        [verifierArbitrary()],
        async (verifier) => {
          const outcome = await client.authorize(
            { code_challenge: verifier, code_challenge_method: 'plain' },
            undefined,
            ctx.signal,
          );
          if (outcome.kind === 'code') {
            const exchange = await client.exchangeCode(outcome.code, verifier, ctx.signal);
            throw new CheckFailure(
              `a plain challenge got a code; exchanging it with the verifier gave ${describeToken(exchange)}`,
            );
          }
          expect(
            outcome.kind === 'error' && outcome.error === 'invalid_request',
            `expected error=invalid_request, got ${describeOutcome(outcome)}`,
          );
        },
        { maxRuns: 10 },
      );
    },
  },
  {
    id: 'as-pkce-malformed-challenge',
    title: 'A challenge outside the RFC 7636 syntax is refused with invalid_request',
    clause: 'RFC 7636 §4.2, §4.4.1',
    link: RFC(7636, '4.2'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      await ctx.property(
        [malformedChallenge()],
        async (challenge) => {
          const outcome = await client.authorize(
            { code_challenge: challenge, code_challenge_method: 'S256' },
            undefined,
            ctx.signal,
          );
          if (outcome.kind === 'code') {
            const exchange = await client.exchangeCode(outcome.code, challenge, ctx.signal);
            throw new CheckFailure(
              `a malformed challenge got a code (exchange: ${describeToken(exchange)})`,
            );
          }
          expect(
            outcome.kind === 'error' && outcome.error === 'invalid_request',
            `expected error=invalid_request, got ${describeOutcome(outcome)}`,
          );
        },
        { maxRuns: FLOW_RUNS },
      );
    },
  },
];
