/** as-metadata: the RFC 8414 document, its exact issuer, S256, and RFC 9207 `iss` on responses. */
import { expect } from '../../errors';
import { describeOutcome } from '../../oauth/client';
import { discoverAs } from '../../oauth/discovery';
import { stringArrayProp } from '../../oauth/json';
import { randomVerifier, s256 } from '../../oauth/pkce';
import type { Check } from '../../types';
import { MCP_AUTH, RFC } from '../links';
import { asTarget, connect } from './common';

const suite = 'as-metadata';

export const asMetadataChecks: Check[] = [
  {
    id: 'as-metadata-document',
    title: 'Metadata is served at the RFC 8414 well-known URL with the required fields',
    clause: 'RFC 8414 §2, §3',
    link: RFC(8414, '3'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const { url, metadata } = await discoverAs(asTarget(ctx).issuer, ctx.signal);
      ctx.note(`metadata at ${url}`);
      const types = stringArrayProp(metadata, 'response_types_supported');
      expect(
        types?.includes('code'),
        `response_types_supported must list "code", got ${JSON.stringify(metadata.response_types_supported)}`,
      );
      for (const key of ['authorization_endpoint', 'token_endpoint'] as const) {
        expect(URL.canParse(metadata[key]), `${key} is not a URL: ${metadata[key]}`);
      }
    },
  },
  {
    id: 'as-metadata-issuer-exact',
    title: 'The metadata issuer is identical to the issuer it was fetched for',
    clause: 'RFC 8414 §3.3',
    link: RFC(8414, '3.3'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const issuer = asTarget(ctx).issuer;
      const { metadata } = await discoverAs(issuer, ctx.signal);
      expect(
        metadata.issuer === issuer,
        `issuer ${JSON.stringify(metadata.issuer)} differs from ${JSON.stringify(issuer)}`,
      );
    },
  },
  {
    id: 'as-metadata-s256',
    title: 'code_challenge_methods_supported advertises S256',
    clause: 'RFC 8414 §2; MCP Authorization (PKCE)',
    link: MCP_AUTH('authorization-code-protection'),
    level: 'MUST',
    suite,
    needs: ['as'],
    async run(ctx) {
      const { metadata } = await discoverAs(asTarget(ctx).issuer, ctx.signal);
      const methods = stringArrayProp(metadata, 'code_challenge_methods_supported');
      expect(
        methods?.includes('S256'),
        `code_challenge_methods_supported is ${JSON.stringify(methods)}`,
      );
    },
  },
  {
    id: 'as-metadata-iss-response',
    title: 'Authorization responses carry iss equal to the issuer (and the metadata says so)',
    clause: 'RFC 9207 §2, §3',
    link: RFC(9207, '2'),
    level: 'SHOULD',
    suite,
    needs: ['as'],
    async run(ctx) {
      const client = await connect(ctx);
      expect(
        client.metadata.authorization_response_iss_parameter_supported === true,
        'authorization_response_iss_parameter_supported is not true',
      );
      const verifier = randomVerifier();
      const outcome = await client.authorize(
        { code_challenge: s256(verifier), code_challenge_method: 'S256' },
        undefined,
        ctx.signal,
      );
      expect(outcome.kind === 'code', `authorization failed: ${describeOutcome(outcome)}`);
      const iss = outcome.params.get('iss');
      expect(
        iss === client.metadata.issuer,
        `iss in the authorization response is ${JSON.stringify(iss)}, expected ${client.metadata.issuer}`,
      );
      const denied = await client.authorize(
        { code_challenge_method: 'plain', code_challenge: verifier },
        undefined,
        ctx.signal,
      );
      if (denied.kind === 'error') {
        expect(
          denied.params.get('iss') === client.metadata.issuer,
          `iss in the error response is ${JSON.stringify(denied.params.get('iss'))}`,
        );
      }
    },
  },
];
