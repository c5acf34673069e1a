/**
 * Authorization server metadata discovery, exactly as RFC 8414 §3 places the document (path
 * inserted after the well-known prefix), with the OpenID Connect location as a fallback.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
import { CheckFailure } from '../errors';
import { type JsonObject, readJsonObject, stringProp } from './json';

export interface AsMetadata extends JsonObject {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

/** The RFC 8414 metadata URLs to try for `issuer`, in order. */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    ...(path ? [`${url.origin}${path}/.well-known/openid-configuration`] : []),
  ];
}

/** Fetches the metadata of `issuer`; fails when none is served or the endpoints are missing. */
export async function discoverAs(
  issuer: string,
  signal?: AbortSignal,
): Promise<{ url: string; metadata: AsMetadata }> {
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) {
      await response.arrayBuffer();
      tried.push(`${url} → ${response.status}`);
      continue;
    }
    const metadata = await readJsonObject(response, url);
    const issuerValue = stringProp(metadata, 'issuer');
    const authorization = stringProp(metadata, 'authorization_endpoint');
    const token = stringProp(metadata, 'token_endpoint');
    if (!issuerValue || !authorization || !token) {
      throw new CheckFailure(
        `${url}: metadata lacks issuer, authorization_endpoint or token_endpoint`,
      );
    }
    return {
      url,
      metadata: {
        ...metadata,
        issuer: issuerValue,
        authorization_endpoint: authorization,
        token_endpoint: token,
      },
    };
  }
  throw new CheckFailure(`no authorization server metadata for ${issuer} (${tried.join('; ')})`);
}
