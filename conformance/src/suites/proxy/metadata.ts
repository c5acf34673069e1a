/** proxy-metadata: the 401 challenge, RFC 9728 protected-resource metadata, RFC 8414 metadata. */
import fc from 'fast-check';
import { expect } from '../../errors';
import { describeOutcome } from '../../oauth/client';
import { stringArrayProp, stringProp } from '../../oauth/json';
import { discoverProxy, probe, proxyClient, proxyUrls } from '../../proxy/client';
import type { Check } from '../../types';
import { MCP_AUTH, RFC } from '../links';

const suite = 'proxy-metadata';

export const proxyMetadataChecks: Check[] = [
  {
    id: 'proxy-metadata-401-challenge',
    title:
      'An MCP request without a token gets 401 with WWW-Authenticate: Bearer resource_metadata=…',
    clause: 'RFC 9728 §5.1; MCP Authorization (Authorization Server Location)',
    link: RFC(9728, '5.1'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      for (const url of proxyUrls(ctx)) {
        const challenge = await probe(url, undefined, ctx.signal);
        expect(
          challenge.status === 401,
          `${url}: unauthenticated initialize answered ${challenge.status}`,
        );
        expect(
          challenge.header && /^\s*bearer\b/i.test(challenge.header),
          `${url}: WWW-Authenticate is ${JSON.stringify(challenge.header)}`,
        );
        const prm = challenge.params.resource_metadata;
        expect(
          prm && URL.canParse(prm),
          `${url}: no resource_metadata URL in ${JSON.stringify(challenge.header)}`,
        );
      }
    },
  },
  {
    id: 'proxy-metadata-prm',
    title:
      'The protected-resource metadata names this MCP URL as resource and an authorization server',
    clause: 'RFC 9728 §3.2, §3.3',
    link: RFC(9728, '3.3'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      for (const url of proxyUrls(ctx)) {
        const discovery = await discoverProxy(url, ctx.signal);
        expect(
          discovery.resource === url,
          `${discovery.prmUrl}: resource ${JSON.stringify(discovery.resource)} is not the MCP URL ${url}`,
        );
        const wellKnown = new URL(discovery.prmUrl);
        const expectedPath = `/.well-known/oauth-protected-resource${new URL(url).pathname}`;
        expect(
          wellKnown.origin === new URL(url).origin && wellKnown.pathname === expectedPath,
          `metadata URL ${discovery.prmUrl} is not ${new URL(url).origin}${expectedPath}`,
        );
      }
    },
  },
  {
    id: 'proxy-metadata-as',
    title: "The proxy's authorization server metadata: exact issuer, S256, registration endpoint",
    clause: 'RFC 8414 §3.3; MCP Authorization (Dynamic Client Registration)',
    link: MCP_AUTH('dynamic-client-registration'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      for (const url of proxyUrls(ctx)) {
        const { issuer, metadata } = await discoverProxy(url, ctx.signal);
        expect(
          metadata.issuer === issuer,
          `issuer ${metadata.issuer} differs from ${issuer} named by the resource metadata`,
        );
        expect(
          stringArrayProp(metadata, 'code_challenge_methods_supported')?.includes('S256'),
          'code_challenge_methods_supported lacks S256',
        );
        expect(stringProp(metadata, 'registration_endpoint'), 'no registration_endpoint');
      }
    },
  },
  {
    id: 'proxy-metadata-invalid-token',
    title: 'Any token the proxy did not issue gets 401 with a Bearer challenge',
    clause: 'MCP Authorization (Token Handling); RFC 6750 §3.1',
    link: MCP_AUTH('token-handling'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const url = proxyUrls(ctx)[0] ?? '';
      const token68 = fc.string({
        unit: fc.constantFrom(
          ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/',
        ),
        minLength: 1,
        maxLength: 200,
      });
      await ctx.property(
        [token68],
        async (token) => {
          const challenge = await probe(url, token, ctx.signal);
          expect(
            challenge.status === 401,
            `token ${JSON.stringify(token)} answered ${challenge.status}`,
          );
          expect(
            challenge.header && /^\s*bearer\b/i.test(challenge.header),
            `WWW-Authenticate is ${JSON.stringify(challenge.header)}`,
          );
        },
        { maxRuns: 50 },
      );
    },
  },
  {
    id: 'proxy-metadata-invalid-token-error',
    title: 'The challenge for a bad token says error="invalid_token" and where the metadata is',
    clause: 'RFC 6750 §3, §3.1; RFC 9728 §5.1',
    link: RFC(6750, '3.1'),
    level: 'SHOULD',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const challenge = await probe(
        proxyUrls(ctx)[0] ?? '',
        'not-a-token-the-proxy-issued',
        ctx.signal,
      );
      expect(challenge.status === 401, `answered ${challenge.status}`);
      expect(
        challenge.params.error === 'invalid_token',
        `WWW-Authenticate ${JSON.stringify(challenge.header)} lacks error="invalid_token"`,
      );
      expect(
        challenge.params.resource_metadata,
        `WWW-Authenticate ${JSON.stringify(challenge.header)} lacks resource_metadata`,
      );
    },
  },
  {
    id: 'proxy-metadata-iss-response',
    title: "The proxy's authorization responses carry iss equal to its issuer",
    clause: 'RFC 9207 §2',
    link: RFC(9207, '2'),
    level: 'SHOULD',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const { outcome } = await client.authorize({}, ctx.signal);
      expect(outcome.kind === 'code', `authorization failed: ${describeOutcome(outcome)}`);
      const iss = outcome.params.get('iss');
      expect(
        iss === client.discovery.issuer,
        `iss is ${JSON.stringify(iss)}, expected ${client.discovery.issuer}`,
      );
    },
  },
];
