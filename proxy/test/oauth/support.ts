/** Shared pieces of the OAuth unit tests: a store in a temp dir and a scriptable token endpoint. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OAuthRepository } from '../../src/oauth/repository';
import { openStore, type ProxyStore } from '../../src/store';
import type { OAuth2UpstreamAuth, Workspace } from '../../src/types';

export const TOKEN_URL = 'https://as.example/token';

export function oauthWorkspace(auth: Partial<OAuth2UpstreamAuth> = {}, id = 'ws-unit'): Workspace {
  const now = new Date().toISOString();
  return {
    id,
    name: 'Unit workspace',
    spec: { kind: 'document', text: '{}' },
    auth: {
      type: 'oauth2',
      provider: 'custom',
      grant: 'authorization_code',
      authorizationUrl: 'https://as.example/authorize',
      tokenUrl: TOKEN_URL,
      clientId: 'proxy-client',
      clientSecret: 'proxy-secret',
      scopes: ['items:read'],
      pkce: true,
      state: true,
      ...auth,
    },
    tools: { enabled: 'all', disabled: [] },
    public: false,
    createdAt: now,
    updatedAt: now,
  };
}

export interface TempStore {
  store: ProxyStore;
  repo: OAuthRepository;
  dataDir: string;
  close(): void;
}

export function tempStore(dataDir = mkdtempSync(join(tmpdir(), 'oauth-unit-'))): TempStore {
  const store = openStore({ dataDir });
  const repo = new OAuthRepository(store);
  return {
    store,
    repo,
    dataDir,
    close() {
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });

/** A rotating token endpoint as a fetch function; records every request body it saw. */
export function tokenEndpoint(options: { expiresIn?: number } = {}) {
  const requests: URLSearchParams[] = [];
  let n = 0;
  const endpoint = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = new URLSearchParams(String(init?.body ?? ''));
    requests.push(body);
    n += 1;
    return json({
      access_token: `at-${n}`,
      refresh_token: `rt-${n}`,
      token_type: 'Bearer',
      expires_in: options.expiresIn ?? 3600,
    });
  };
  return { endpoint, requests };
}
