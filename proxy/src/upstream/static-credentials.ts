/**
 * Upstream credentials that never change: the bearer, API-key, custom-header and no-auth types of
 * a workspace. The OAuth module provides the other implementation of UpstreamCredentials.
 */
import type { UpstreamAuth, UpstreamCredentials } from '../types';

/** The header an API key goes in when the workspace names none. */
export const DEFAULT_API_KEY_HEADER = 'X-Api-Key';

/**
 * Credentials for a static auth type: fixed headers on every call, nothing to refresh on a 401.
 * Throws `TypeError` (`ERR_INVALID_ARG_VALUE`) for `oauth2`, which needs the OAuth module.
 */
export function staticCredentials(auth: UpstreamAuth): UpstreamCredentials {
  const headers = staticHeaders(auth);
  return {
    headers: async () => ({ ...headers }),
  };
}

function staticHeaders(auth: UpstreamAuth): Record<string, string> {
  switch (auth.type) {
    case 'none':
      return {};
    case 'bearer':
      return { Authorization: `Bearer ${auth.token}` };
    case 'apiKey':
      return { [auth.header ?? DEFAULT_API_KEY_HEADER]: auth.value };
    case 'headers':
      return { ...auth.headers };
    case 'oauth2':
      throw Object.assign(
        new TypeError('oauth2 upstream auth has no static credentials; use the OAuth module'),
        { code: 'ERR_INVALID_ARG_VALUE' },
      );
  }
}
