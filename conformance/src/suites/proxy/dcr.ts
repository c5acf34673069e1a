/**
 * proxy-dcr: dynamic client registration accepts what an MCP client sends, refuses unsafe redirect
 * URIs and unsupported auth methods, and (where the target can be restarted) survives a restart.
 */
import fc from 'fast-check';
import { expect } from '../../errors';
import { describeOutcome } from '../../oauth/client';
import { stringArrayProp, stringProp } from '../../oauth/json';
import {
  CLIENT_REDIRECT_URI,
  clientMetadata,
  discoverProxy,
  ProxyClient,
  proxyUrls,
  register,
} from '../../proxy/client';
import type { Check } from '../../types';
import { MCP_SECURITY, RFC } from '../links';

const suite = 'proxy-dcr';

/** Redirect URIs a registration must refuse: non-loopback http, fragments, relative, script schemes. */
export function unsafeRedirectUri(): fc.Arbitrary<string> {
  const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
  return fc.oneof(
    label.map((host) => `http://${host}.example/callback`),
    label.map((frag) => `http://127.0.0.1:33418/callback#${frag}`),
    label.map((path) => `/${path}/callback`),
    fc.constantFrom(
      'javascript:alert(1)',
      'data:text/html,hi',
      'http://10.0.0.7/callback',
      'ftp://127.0.0.1/cb',
      '',
    ),
  );
}

export const proxyDcrChecks: Check[] = [
  {
    id: 'proxy-dcr-register',
    title: 'A public MCP client registers and gets a client_id with its metadata echoed',
    clause: 'RFC 7591 §3.2.1',
    link: RFC(7591, '3.2.1'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const { metadata } = await discoverProxy(proxyUrls(ctx)[0] ?? '', ctx.signal);
      const result = await register(metadata, clientMetadata(), ctx.signal);
      expect(
        result.status === 201,
        `registration answered ${result.status}: ${JSON.stringify(result.body).slice(0, 200)}`,
      );
      expect(stringProp(result.body, 'client_id'), 'no client_id');
      expect(
        stringArrayProp(result.body, 'redirect_uris')?.includes(CLIENT_REDIRECT_URI),
        'redirect_uris not echoed',
      );
    },
  },
  {
    id: 'proxy-dcr-redirect-uri-validation',
    title:
      'Registration refuses redirect URIs that are neither https nor loopback, or carry a fragment',
    clause: 'RFC 7591 §2, §3.2.2; MCP Security Best Practices',
    link: RFC(7591, '3.2.2'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const { metadata } = await discoverProxy(proxyUrls(ctx)[0] ?? '', ctx.signal);
      await ctx.property(
        [unsafeRedirectUri()],
        async (uri) => {
          const result = await register(
            metadata,
            clientMetadata({ redirect_uris: [uri] }),
            ctx.signal,
          );
          const error = stringProp(result.body, 'error');
          expect(
            result.status === 400,
            `redirect URI ${JSON.stringify(uri)} was accepted (${result.status})`,
          );
          expect(
            error === 'invalid_redirect_uri' || error === 'invalid_client_metadata',
            `error is ${JSON.stringify(error)}`,
          );
        },
        { maxRuns: 30 },
      );
    },
  },
  {
    id: 'proxy-dcr-auth-method',
    title:
      'Registration refuses (or replaces) a token_endpoint_auth_method the server does not support',
    clause: 'RFC 7591 §2, §3.2.2',
    link: RFC(7591, '3.2.2'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const { metadata } = await discoverProxy(proxyUrls(ctx)[0] ?? '', ctx.signal);
      const supported = stringArrayProp(metadata, 'token_endpoint_auth_methods_supported') ?? [
        'client_secret_basic',
      ];
      const method = fc
        .oneof(
          fc.constantFrom('private_key_jwt', 'tls_client_auth', 'client_secret_jwt'),
          fc.stringMatching(/^[a-z_]{3,20}$/),
        )
        .filter((m) => !supported.includes(m));
      await ctx.property(
        [method],
        async (m) => {
          const result = await register(
            metadata,
            clientMetadata({ token_endpoint_auth_method: m }),
            ctx.signal,
          );
          if (result.status === 201) {
            // RFC 7591 §3.2.2 lets the server substitute a valid value; it must then say so.
            const registered = stringProp(result.body, 'token_endpoint_auth_method');
            expect(
              registered !== undefined && supported.includes(registered),
              `token_endpoint_auth_method ${JSON.stringify(m)} was registered as ${JSON.stringify(registered)}, not one of ${JSON.stringify(supported)}`,
            );
            return;
          }
          expect(
            result.status === 400,
            `token_endpoint_auth_method ${JSON.stringify(m)} answered ${result.status}`,
          );
          expect(
            stringProp(result.body, 'error') === 'invalid_client_metadata',
            `error is ${JSON.stringify(result.body.error)}`,
          );
        },
        { maxRuns: 10 },
      );
    },
  },
  {
    id: 'proxy-dcr-persists-restart',
    title: 'A registered client still authorizes after the proxy restarts',
    clause: 'RFC 7591 §3; MCP Security Best Practices (Confused Deputy)',
    link: MCP_SECURITY('confused-deputy-problem'),
    level: 'SHOULD',
    suite,
    needs: ['proxy', 'restart'],
    timeoutMs: 120_000,
    async run(ctx) {
      const client = await ProxyClient.create(
        proxyUrls(ctx)[0] ?? '',
        ctx.targets.upstream,
        ctx.signal,
      );
      await ctx.targets.proxy?.restart?.();
      const { outcome } = await client.authorize({}, ctx.signal);
      expect(
        outcome.kind === 'code',
        `after a restart the registered client cannot authorize: ${describeOutcome(outcome)}`,
      );
    },
  },
];
