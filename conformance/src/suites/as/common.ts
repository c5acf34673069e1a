/** Shared steps of the authorization-server suites. */
import { expect } from '../../errors';
import { AsClient, describeToken, type TokenResult } from '../../oauth/client';
import { stringProp } from '../../oauth/json';
import type { AsTarget, CheckContext } from '../../types';

/** The AS target; the runner only calls checks needing 'as' when it is set. */
export function asTarget(ctx: CheckContext): AsTarget {
  const target = ctx.targets.as;
  if (!target) throw new Error('no authorization server target');
  return target;
}

/** Connects to the AS under test (metadata discovery). */
export function connect(ctx: CheckContext): Promise<AsClient> {
  return AsClient.connect(asTarget(ctx), ctx.signal);
}

/** Fails unless the token response is an OAuth error with one of `errors` (and a 4xx status). */
export function expectOAuthError(
  result: TokenResult,
  errors: string[],
  what: string,
  statuses = [400, 401],
): void {
  const error = stringProp(result.body, 'error');
  expect(
    typeof result.body.access_token !== 'string',
    `${what}: tokens were issued (${describeToken(result)}); expected error ${errors.join(' or ')}`,
  );
  expect(
    statuses.includes(result.status) && error !== undefined && errors.includes(error),
    `${what}: expected ${statuses.join('/')} with error ${errors.join(' or ')}, got ${describeToken(result)}`,
  );
}

/** Fails unless the token response issued an access token. */
export function expectTokens(
  result: TokenResult,
  what: string,
): { accessToken: string; refreshToken?: string } {
  const accessToken = stringProp(result.body, 'access_token');
  expect(
    result.status === 200 && accessToken,
    `${what}: expected 200 with an access_token, got ${describeToken(result)}`,
  );
  const refreshToken = stringProp(result.body, 'refresh_token');
  return { accessToken, ...(refreshToken ? { refreshToken } : {}) };
}
