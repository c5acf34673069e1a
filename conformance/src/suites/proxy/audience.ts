/**
 * proxy-audience: the upstream never receives a proxy-issued token, the client never holds an
 * upstream token, and tokens bound to another workspace or resource are refused.
 */
import { expect } from '../../errors';
import { describeMcp } from '../../mcp/client';
import { describeOutcome, describeToken } from '../../oauth/client';
import { sha256Hex } from '../../oauth/pkce';
import { ProxyClient, probe, proxyClient, proxyUrls } from '../../proxy/client';
import type { Check } from '../../types';
import { MCP_AUTH, MCP_SECURITY, RFC } from '../links';
import { control, upstream } from './common';

const suite = 'proxy-audience';
const FOREIGN_RESOURCE = 'https://resource.invalid/mcp/not-this-proxy';

export const proxyAudienceChecks: Check[] = [
  {
    id: 'proxy-audience-no-passthrough',
    title: "The upstream API never receives the client's (proxy-issued) token",
    clause: 'MCP Security Best Practices (Token Passthrough)',
    link: MCP_SECURITY('token-passthrough'),
    level: 'MUST',
    suite,
    needs: ['proxy', 'upstream'],
    async run(ctx) {
      const ctl = control(ctx);
      const client = await proxyClient(ctx);
      const tokens = await client.obtainTokens(ctx.signal);
      const since = await ctl.lastSeq();
      const session = await client.session(tokens.accessToken, ctx.signal);
      const result = await session.callTool(ctx.targets.proxy?.tool ?? 'listItems', {}, ctx.signal);
      expect(result.ok, `the tool call failed: ${describeMcp(result)}`);
      const apiEvents = (await ctl.events(since)).filter((e) => e.kind === 'api');
      expect(
        apiEvents.length > 0,
        'the tool call reached no upstream API endpoint, so nothing could be judged',
      );
      const forwarded = apiEvents.filter((e) => e.token_sha256 === sha256Hex(tokens.accessToken));
      expect(
        forwarded.length === 0,
        `the upstream received the client's own bearer token on ${forwarded.length} request(s)`,
      );
    },
  },
  {
    id: 'proxy-audience-no-upstream-token-to-client',
    title: 'The token the client holds is not an upstream token (the upstream API refuses it)',
    clause:
      'MCP Security Best Practices (Token Passthrough); MCP Authorization (Access Token Privilege Restriction)',
    link: MCP_AUTH('access-token-privilege-restriction'),
    level: 'MUST',
    suite,
    needs: ['proxy', 'upstream'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const tokens = await client.obtainTokens(ctx.signal);
      const response = await fetch(new URL('/api/items', upstream(ctx).url), {
        headers: { authorization: `Bearer ${tokens.accessToken}` },
        signal: ctx.signal,
      });
      await response.arrayBuffer();
      expect(
        response.status === 401,
        `the upstream API accepted the client's token (status ${response.status})`,
      );
    },
  },
  {
    id: 'proxy-audience-other-workspace',
    title: "A token issued for one workspace is refused by another workspace's MCP endpoint",
    clause: 'RFC 8707 §2; MCP Authorization (Token Audience Binding and Validation)',
    link: MCP_AUTH('token-audience-binding-and-validation'),
    level: 'MUST',
    suite,
    needs: ['proxy', 'second-workspace'],
    async run(ctx) {
      const [first, second] = proxyUrls(ctx);
      const client = await proxyClient(ctx, 0);
      const tokens = await client.obtainTokens(ctx.signal);
      const own = await probe(first ?? '', tokens.accessToken, ctx.signal);
      expect(
        own.status === 200,
        `the token does not even work at its own workspace (${own.status})`,
      );
      const other = await probe(second ?? '', tokens.accessToken, ctx.signal);
      expect(
        other.status === 401,
        `${second} accepted a token issued for ${first} (status ${other.status})`,
      );
    },
  },
  {
    id: 'proxy-audience-foreign-resource',
    title: 'A token requested for a foreign resource is refused, or never works here',
    clause: 'RFC 8707 §2; MCP Authorization (Token Audience Binding and Validation)',
    link: RFC(8707, '2'),
    level: 'MUST',
    suite,
    needs: ['proxy'],
    async run(ctx) {
      const client = await proxyClient(ctx);
      const pkce = ProxyClient.pkce();
      const { outcome } = await client.authorize(
        { ...pkce.params, resource: FOREIGN_RESOURCE },
        ctx.signal,
      );
      if (outcome.kind !== 'code') {
        ctx.note(`authorization refused: ${describeOutcome(outcome)}`);
        return;
      }
      const exchange = await client.oauth.token(
        {
          grant_type: 'authorization_code',
          code: outcome.code,
          redirect_uri: client.oauth.target.redirectUri,
          code_verifier: pkce.verifier,
          resource: FOREIGN_RESOURCE,
        },
        {},
        ctx.signal,
      );
      const token = exchange.body.access_token;
      if (exchange.status !== 200 || typeof token !== 'string') {
        ctx.note(`token request refused: ${describeToken(exchange)}`);
        return;
      }
      const challenge = await probe(client.discovery.mcpUrl, token, ctx.signal);
      expect(
        challenge.status === 401,
        `a token issued for ${FOREIGN_RESOURCE} was accepted by ${client.discovery.mcpUrl} (status ${challenge.status})`,
      );
    },
  },
];
