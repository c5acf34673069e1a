/**
 * proxy-consent: with a static upstream client, every dynamically registered client gets a consent
 * page before the proxy redirects upstream (confused deputy), the page cannot be framed, and a
 * denial sends the client access_denied without any upstream step.
 */
import { expect } from '../../errors';
import { UserAgent } from '../../http/user-agent';
import { isRedirectTo } from '../../oauth/client';
import { ProxyClient, proxyClient } from '../../proxy/client';
import type { Check } from '../../types';
import { MCP_SECURITY, RFC } from '../links';

const suite = 'proxy-consent';

export const proxyConsentChecks: Check[] = [
  {
    id: 'proxy-consent-required',
    title: 'A newly registered client meets a consent page before any redirect upstream',
    clause: 'MCP Security Best Practices (Confused Deputy Problem)',
    link: MCP_SECURITY('confused-deputy-problem'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const ua = new UserAgent();
      const url = client.oauth.authorizationUrl(ProxyClient.pkce().params);
      const response = await ua.request(url, { signal: ctx.signal });
      const body = await response.text();
      const location = response.headers.get('location');
      expect(
        !(response.status >= 300 && response.status < 400),
        `the proxy redirected a never-seen client straight to ${location ?? '(no location)'} without asking the user`,
      );
      expect(
        response.status === 200 && /<form\b/i.test(body),
        `expected a consent page with a form, got ${response.status}`,
      );
      expect(
        body.includes(client.oauth.target.redirectUri) ||
          body.includes(encodeURI(client.oauth.target.redirectUri)),
        'the consent page does not name the redirect URI',
      );
    },
  },
  {
    id: 'proxy-consent-no-framing',
    title: 'The consent page forbids framing (X-Frame-Options or CSP frame-ancestors)',
    clause: 'RFC 6749 §10.13; MCP Security Best Practices (Confused Deputy Problem)',
    link: RFC(6749, '10.13'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const response = await new UserAgent().request(
        client.oauth.authorizationUrl(ProxyClient.pkce().params),
        { signal: ctx.signal },
      );
      await response.arrayBuffer();
      const xfo = response.headers.get('x-frame-options') ?? '';
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(
        /^(deny|sameorigin)$/i.test(xfo.trim()) || /frame-ancestors\s+('none'|'self')/i.test(csp),
        `consent page framing is not denied (X-Frame-Options: ${JSON.stringify(xfo)}, CSP: ${JSON.stringify(csp)})`,
      );
    },
  },
  {
    id: 'proxy-consent-deny',
    title: 'Denying consent returns access_denied to the client and never goes upstream',
    clause: 'RFC 6749 §4.1.2.1; MCP Security Best Practices (Confused Deputy Problem)',
    link: RFC(6749, '4.1.2.1'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const ua = new UserAgent({ decision: 'deny' });
      const upstreamOrigin = ctx.targets.upstream
        ? new URL(ctx.targets.upstream.url).origin
        : undefined;
      const redirect = client.oauth.target.redirectUri;
      const navigation = await ua.navigate(
        client.oauth.authorizationUrl(ProxyClient.pkce().params),
        (u) =>
          isRedirectTo(u, redirect) ||
          (upstreamOrigin !== undefined && u.origin === upstreamOrigin),
        ctx.signal,
      );
      if (navigation.kind === 'page') {
        expect(!/\bcode=/.test(navigation.url.search), 'a code appeared after denial');
        ctx.note(`denial ended on a ${navigation.status} page`);
        return;
      }
      expect(
        upstreamOrigin === undefined || navigation.url.origin !== upstreamOrigin,
        `after denial the browser was sent upstream: ${navigation.url.href}`,
      );
      const error = navigation.url.searchParams.get('error');
      expect(
        error === 'access_denied' && !navigation.url.searchParams.has('code'),
        `after denial the client was sent ${navigation.url.search}`,
      );
    },
  },
];
