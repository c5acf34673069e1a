/**
 * proxy-pkce: the proxy's own upstream authorization requests carry a fresh, valid S256 challenge;
 * toward MCP clients its AS refuses wrong and plain verifiers and reused codes.
 */
import fc from 'fast-check';
import { expect } from '../../errors';
import { describeOutcome, describeToken } from '../../oauth/client';
import { isS256Challenge, s256, verifierArbitrary } from '../../oauth/pkce';
import { ProxyClient, proxyClient } from '../../proxy/client';
import type { Check } from '../../types';
import { expectOAuthError } from '../as/common';
import { MCP_AUTH, OAUTH21, RFC } from '../links';
import { fail } from './common';

const suite = 'proxy-pkce';

export const proxyPkceChecks: Check[] = [
  {
    id: 'proxy-pkce-upstream-s256',
    title:
      "The proxy's upstream authorization requests carry a fresh S256 challenge the upstream accepts",
    clause: 'OAuth 2.1 §4.1.1; MCP Authorization (Authorization Code Protection)',
    link: MCP_AUTH('authorization-code-protection'),
    level: 'MUST',
    suite,
    needs: ['proxy', 'upstream'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const seen = new Set<string>();
      await ctx.property(
        [fc.nat()],
        async () => {
          const { outcome, legs } = await client.authorize({}, ctx.signal);
          if (legs.kind !== 'upstream')
            fail(`no upstream authorization request was observed (${describeOutcome(outcome)})`);
          const query = legs.upstreamAuthorize.searchParams;
          expect(
            query.get('code_challenge_method') === 'S256',
            `upstream code_challenge_method is ${JSON.stringify(query.get('code_challenge_method'))}`,
          );
          const challenge = query.get('code_challenge');
          expect(
            isS256Challenge(challenge),
            `upstream code_challenge ${JSON.stringify(challenge)} is not an S256 value`,
          );
          expect(
            !seen.has(challenge ?? ''),
            'the proxy reused a code_challenge across authorizations',
          );
          seen.add(challenge ?? '');
          expect(
            outcome.kind === 'code',
            `the flow did not complete, so the upstream refused the proxy's verifier: ${describeOutcome(outcome)}`,
          );
        },
        { maxRuns: 5 },
      );
    },
  },
  {
    id: 'proxy-pkce-wrong-verifier',
    title: "The proxy's token endpoint refuses a wrong verifier (invalid_grant)",
    clause: 'RFC 7636 §4.6',
    link: RFC(7636, '4.6'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      await ctx.property(
        [fc.tuple(verifierArbitrary(), verifierArbitrary()).filter(([a, b]) => a !== b)],
        async ([verifier, wrong]) => {
          const { outcome } = await client.authorize(
            { code_challenge: s256(verifier), code_challenge_method: 'S256' },
            ctx.signal,
          );
          if (outcome.kind !== 'code') fail(`authorization failed: ${describeOutcome(outcome)}`);
          expectOAuthError(
            await client.oauth.exchangeCode(outcome.code, wrong, ctx.signal),
            ['invalid_grant'],
            'exchange with a wrong verifier',
          );
        },
        { maxRuns: 5 },
      );
    },
  },
  {
    id: 'proxy-pkce-plain-rejected',
    title: 'The proxy refuses code_challenge_method=plain (invalid_request)',
    clause: 'RFC 7636 §4.4.1; MCP Authorization (Authorization Code Protection)',
    link: RFC(7636, '4.4.1'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const { verifier } = ProxyClient.pkce();
      const { outcome } = await client.authorize(
        { code_challenge: verifier, code_challenge_method: 'plain' },
        ctx.signal,
      );
      if (outcome.kind === 'code') {
        const exchange = await client.oauth.exchangeCode(outcome.code, verifier, ctx.signal);
        fail(`a plain challenge got a code (exchange: ${describeToken(exchange)})`);
      }
      expect(
        outcome.kind === 'error' && outcome.error === 'invalid_request',
        `expected error=invalid_request, got ${describeOutcome(outcome)}`,
      );
    },
  },
  {
    id: 'proxy-pkce-code-single-use',
    title: "The proxy's authorization codes are single-use",
    clause: 'OAuth 2.1 §4.1.3',
    link: OAUTH21('4.1.3'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const { outcome, verifier } = await client.authorize({}, ctx.signal);
      if (outcome.kind !== 'code') fail(`authorization failed: ${describeOutcome(outcome)}`);
      const first = await client.oauth.exchangeCode(outcome.code, verifier, ctx.signal);
      expect(first.status === 200, `first exchange: ${describeToken(first)}`);
      expectOAuthError(
        await client.oauth.exchangeCode(outcome.code, verifier, ctx.signal),
        ['invalid_grant'],
        'second exchange',
      );
    },
  },
];
