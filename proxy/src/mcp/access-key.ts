/**
 * The default authorization of a non-OAuth workspace: MCP clients present the workspace's access
 * key as a bearer token (mcp-remote's `--header "Authorization: Bearer …"`), unless it is public.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Workspace } from '../types';

/** Who a request was authorized as. */
export interface Authorization {
  /** The OAuth grant behind the token. */
  grantId?: string;
  /** The OAuth token's scopes; absent when no OAuth token was presented (no scope check). */
  scopes?: string[];
  /** The workspace's RFC 9728 metadata URL, named in `insufficient_scope` challenges. */
  resourceMetadata?: string;
  /** The `WWW-Authenticate` of a 401 for this token, sent when its grant ends mid-request. */
  invalidTokenChallenge?: string;
}

/** Decides whether a request may use a workspace; `undefined` means it was answered (401). */
export type Authorize = (
  req: Request,
  res: Response,
  workspace: Workspace,
) => Promise<Authorization | undefined>;

/** RFC 6750 §2.1: `Bearer` then one b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Authorizes public workspaces, and others when `Authorization: Bearer <accessKey>` matches
 * (compared in constant time). A workspace without an access key, or using OAuth, is refused:
 * this authorizer fails closed.
 */
export function accessKeyAuthorizer(options: { realm?: string } = {}): Authorize {
  const realm = (options.realm ?? 'mcp-proxy').replace(/["\\]/g, '');
  const expected = new DigestCache();
  return async function authorizeAccessKey(req, res, workspace) {
    if (workspace.public && workspace.auth.type !== 'oauth2') return {};
    const header = req.headers.authorization;
    const presented = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (
      presented !== undefined &&
      workspace.accessKey !== undefined &&
      workspace.auth.type !== 'oauth2' &&
      timingSafeEqual(digest(presented), expected.of(workspace.accessKey))
    ) {
      return {};
    }
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    const challenge =
      header === undefined
        ? `Bearer realm="${realm}"`
        : `Bearer realm="${realm}", error="invalid_token"`;
    res
      .status(401)
      .set('WWW-Authenticate', challenge)
      .json({ error: 'invalid_token', error_description: 'A valid access key is required' });
    return undefined;
  };
}

/** Hashing first gives equal lengths, so timingSafeEqual leaks neither content nor length. */
function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** The workspaces' key digests, computed once per key rather than on every request. */
class DigestCache {
  readonly #digests = new Map<string, Buffer>();
  of(secret: string): Buffer {
    let known = this.#digests.get(secret);
    if (!known) {
      // Keys are few; rotated ones must not pile up.
      if (this.#digests.size >= 1024) this.#digests.clear();
      known = digest(secret);
      this.#digests.set(secret, known);
    }
    return known;
  }
}
