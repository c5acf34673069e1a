/**
 * The OAuth module's tables on the proxy store: downstream clients, consents, pending flows,
 * grants (with the upstream tokens sealed), proxy codes, tokens and client secrets (as sha256
 * hashes only), upstream registrations and service tokens. Every other secret is sealed with a
 * per-row context.
 */
import type Database from 'better-sqlite3';
import type { Migration, ProxyStore } from '../store';
import { sha256Hex } from './tokens';

export const oauthMigrations: Migration[] = [
  {
    version: 1,
    name: 'oauth clients, consents, flows, grants, codes, tokens',
    up(db) {
      db.exec(`
        CREATE TABLE oauth_clients (
          client_id TEXT PRIMARY KEY,
          workspace_id TEXT NOT NULL,
          metadata TEXT NOT NULL,
          client_secret TEXT,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE oauth_consents (
          browser_hash TEXT NOT NULL,
          workspace_id TEXT NOT NULL,
          client_id TEXT NOT NULL,
          scopes TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          PRIMARY KEY (browser_hash, workspace_id, client_id)
        );
        CREATE TABLE oauth_flows (
          id_hash TEXT PRIMARY KEY,
          workspace_id TEXT NOT NULL,
          client_id TEXT NOT NULL,
          redirect_uri TEXT NOT NULL,
          code_challenge TEXT NOT NULL,
          client_state TEXT,
          scopes TEXT NOT NULL,
          browser_hash TEXT NOT NULL,
          csrf_hash TEXT NOT NULL,
          upstream_state_hash TEXT,
          upstream_secret TEXT,
          stage TEXT NOT NULL,
          expires_at INTEGER NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX oauth_flows_state ON oauth_flows (upstream_state_hash);
        CREATE INDEX oauth_flows_browser ON oauth_flows (browser_hash, created_at);
        CREATE TABLE oauth_grants (
          id TEXT PRIMARY KEY,
          workspace_id TEXT NOT NULL,
          client_id TEXT NOT NULL,
          scopes TEXT NOT NULL,
          upstream TEXT,
          upstream_version INTEGER NOT NULL DEFAULT 0,
          revoked_at INTEGER,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE oauth_codes (
          code_hash TEXT PRIMARY KEY,
          grant_id TEXT NOT NULL,
          client_id TEXT NOT NULL,
          redirect_uri TEXT NOT NULL,
          code_challenge TEXT NOT NULL,
          scopes TEXT NOT NULL,
          expires_at INTEGER NOT NULL,
          used_at INTEGER
        );
        CREATE TABLE oauth_tokens (
          token_hash TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          grant_id TEXT NOT NULL,
          client_id TEXT NOT NULL,
          workspace_id TEXT NOT NULL,
          scopes TEXT NOT NULL,
          expires_at INTEGER NOT NULL,
          rotated_at INTEGER,
          revoked_at INTEGER,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
        CREATE TABLE oauth_upstream_clients (
          workspace_id TEXT PRIMARY KEY,
          config_hash TEXT NOT NULL,
          registration TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE oauth_service_tokens (
          workspace_id TEXT PRIMARY KEY,
          token TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 2,
    name: 'oauth refresh leases',
    up(db) {
      db.exec(`
        CREATE TABLE oauth_refresh_leases (
          grant_id TEXT PRIMARY KEY,
          holder TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 3,
    name: 'oauth client secrets as sha256 hashes',
    up(db) {
      // Secrets sealed by earlier versions are hashed by the repository (it holds the key).
      db.exec('ALTER TABLE oauth_clients ADD COLUMN client_secret_hash TEXT');
    },
  },
];

/** The upstream tokens of a grant (or a workspace's service token), as kept sealed. */
export interface UpstreamTokenSet {
  accessToken: string;
  refreshToken?: string;
  /** ms since the epoch; undefined when the upstream gave no expires_in. */
  expiresAt?: number;
  /** ms since the epoch: when this set was obtained (for the 10%-of-lifetime skew). */
  obtainedAt: number;
  scope?: string;
}

export interface ClientRecord {
  clientId: string;
  workspaceId: string;
  /** RFC 7591 metadata as registered (without the secret). */
  metadata: Record<string, unknown>;
  /** Hex sha256 of the client secret the proxy issued (confidential clients only). */
  clientSecretHash?: string;
  createdAt: number;
}

export interface FlowRecord {
  idHash: string;
  workspaceId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  clientState?: string;
  scopes: string[];
  browserHash: string;
  csrfHash: string;
  upstreamStateHash?: string;
  /** The upstream PKCE verifier, sealed at rest. */
  upstreamVerifier?: string;
  stage: 'consent' | 'upstream' | 'done';
  expiresAt: number;
  createdAt: number;
}

export interface GrantRecord {
  id: string;
  workspaceId: string;
  clientId: string;
  scopes: string[];
  upstream?: UpstreamTokenSet;
  upstreamVersion: number;
  revokedAt?: number;
  createdAt: number;
}

export interface CodeRecord {
  codeHash: string;
  grantId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  expiresAt: number;
  usedAt?: number;
}

export interface TokenRecord {
  tokenHash: string;
  kind: 'access' | 'refresh';
  grantId: string;
  clientId: string;
  workspaceId: string;
  scopes: string[];
  expiresAt: number;
  rotatedAt?: number;
  revokedAt?: number;
  createdAt: number;
}

type Row = Record<string, unknown>;

const str = (row: Row, key: string): string => String(row[key]);
const num = (row: Row, key: string): number => Number(row[key]);
const optStr = (row: Row, key: string): string | undefined =>
  row[key] === null || row[key] === undefined ? undefined : String(row[key]);
const optNum = (row: Row, key: string): number | undefined =>
  row[key] === null || row[key] === undefined ? undefined : Number(row[key]);
const scopesOf = (row: Row): string[] => str(row, 'scopes').split(' ').filter(Boolean);

/** Data access for the OAuth tables; synchronous (better-sqlite3), each write one statement or transaction. */
export class OAuthRepository {
  readonly db: Database.Database;
  private readonly store: Pick<ProxyStore, 'secrets'>;

  constructor(store: Pick<ProxyStore, 'db' | 'secrets' | 'migrate'>) {
    this.db = store.db;
    this.store = store;
    store.migrate('oauth', oauthMigrations);
    this.hashSealedClientSecrets();
  }

  /** Replaces client secrets that earlier versions kept sealed by their hashes (idempotent). */
  private hashSealedClientSecrets(): void {
    const rows = this.db
      .prepare('SELECT client_id, client_secret FROM oauth_clients WHERE client_secret IS NOT NULL')
      .all() as Row[];
    if (rows.length === 0) return;
    const update = this.db.prepare(
      'UPDATE oauth_clients SET client_secret_hash = ?, client_secret = NULL WHERE client_id = ?',
    );
    this.db.transaction(() => {
      for (const row of rows) {
        const clientId = str(row, 'client_id');
        const secret = this.open(str(row, 'client_secret'), `oauth_clients:${clientId}`);
        update.run(sha256Hex(secret), clientId);
      }
    })();
  }

  private seal(value: string, context: string): string {
    return this.store.secrets.seal(value, context);
  }

  private open(value: string, context: string): string {
    return this.store.secrets.open(value, context);
  }

  // Downstream clients (RFC 7591 registrations).

  saveClient(client: ClientRecord): void {
    this.db
      .prepare(
        'INSERT INTO oauth_clients (client_id, workspace_id, metadata, client_secret_hash, created_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(
        client.clientId,
        client.workspaceId,
        JSON.stringify(client.metadata),
        client.clientSecretHash ?? null,
        client.createdAt,
      );
  }

  getClient(clientId: string): ClientRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_clients WHERE client_id = ?').get(clientId) as
      | Row
      | undefined;
    if (row === undefined) return undefined;
    return {
      clientId: str(row, 'client_id'),
      workspaceId: str(row, 'workspace_id'),
      metadata: JSON.parse(str(row, 'metadata')) as Record<string, unknown>,
      clientSecretHash: optStr(row, 'client_secret_hash'),
      createdAt: num(row, 'created_at'),
    };
  }

  // Consents, remembered per browser, workspace and client.

  rememberConsent(
    browserHash: string,
    workspaceId: string,
    clientId: string,
    scopes: string[],
    now: number,
  ): void {
    this.db
      .prepare(
        `INSERT INTO oauth_consents (browser_hash, workspace_id, client_id, scopes, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (browser_hash, workspace_id, client_id) DO UPDATE SET scopes = excluded.scopes, created_at = excluded.created_at`,
      )
      .run(browserHash, workspaceId, clientId, scopes.join(' '), now);
  }

  consentedScopes(
    browserHash: string,
    workspaceId: string,
    clientId: string,
  ): string[] | undefined {
    const row = this.db
      .prepare(
        'SELECT scopes FROM oauth_consents WHERE browser_hash = ? AND workspace_id = ? AND client_id = ?',
      )
      .get(browserHash, workspaceId, clientId) as Row | undefined;
    return row === undefined ? undefined : scopesOf(row);
  }

  // Pending authorization flows (consent, then upstream).

  saveFlow(flow: FlowRecord): void {
    this.db
      .prepare(
        `INSERT INTO oauth_flows (id_hash, workspace_id, client_id, redirect_uri, code_challenge, client_state, scopes,
           browser_hash, csrf_hash, upstream_state_hash, upstream_secret, stage, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        flow.idHash,
        flow.workspaceId,
        flow.clientId,
        flow.redirectUri,
        flow.codeChallenge,
        flow.clientState ?? null,
        flow.scopes.join(' '),
        flow.browserHash,
        flow.csrfHash,
        flow.upstreamStateHash ?? null,
        flow.upstreamVerifier === undefined
          ? null
          : this.seal(flow.upstreamVerifier, `oauth_flows:${flow.idHash}`),
        flow.stage,
        flow.expiresAt,
        flow.createdAt,
      );
  }

  /** Moves a consent-stage flow to the upstream stage; false when it was not in the consent stage. */
  startUpstream(
    idHash: string,
    upstreamStateHash: string,
    upstreamVerifier: string | undefined,
    expiresAt: number,
  ): boolean {
    const result = this.db
      .prepare(
        `UPDATE oauth_flows SET stage = 'upstream', upstream_state_hash = ?, upstream_secret = ?, expires_at = ?
         WHERE id_hash = ? AND stage = 'consent'`,
      )
      .run(
        upstreamStateHash,
        upstreamVerifier === undefined
          ? null
          : this.seal(upstreamVerifier, `oauth_flows:${idHash}`),
        expiresAt,
        idHash,
      );
    return result.changes === 1;
  }

  getFlow(idHash: string): FlowRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_flows WHERE id_hash = ?').get(idHash) as
      | Row
      | undefined;
    return row === undefined ? undefined : this.flowOf(row);
  }

  flowByUpstreamState(stateHash: string): FlowRecord | undefined {
    const row = this.db
      .prepare('SELECT * FROM oauth_flows WHERE upstream_state_hash = ?')
      .get(stateHash) as Row | undefined;
    return row === undefined ? undefined : this.flowOf(row);
  }

  /** The browser's newest flow waiting for the upstream (used when state is off toward the upstream). */
  latestUpstreamFlow(browserHash: string): FlowRecord | undefined {
    const row = this.db
      .prepare(
        `SELECT * FROM oauth_flows WHERE browser_hash = ? AND stage = 'upstream' ORDER BY created_at DESC LIMIT 1`,
      )
      .get(browserHash) as Row | undefined;
    return row === undefined ? undefined : this.flowOf(row);
  }

  /** Marks a flow used; true only for the one caller that moved it out of `stage`. */
  finishFlow(idHash: string, stage: FlowRecord['stage']): boolean {
    return (
      this.db
        .prepare(
          `UPDATE oauth_flows SET stage = 'done', upstream_secret = NULL WHERE id_hash = ? AND stage = ?`,
        )
        .run(idHash, stage).changes === 1
    );
  }

  purgeExpired(now: number): void {
    this.db.prepare('DELETE FROM oauth_flows WHERE expires_at < ?').run(now);
    this.db.prepare('DELETE FROM oauth_codes WHERE expires_at < ?').run(now);
    const dayAgo = now - 86_400_000;
    this.db
      .prepare('DELETE FROM oauth_tokens WHERE expires_at < ? OR revoked_at < ?')
      .run(dayAgo, dayAgo);
    this.db
      .prepare(
        `DELETE FROM oauth_grants WHERE revoked_at < ?
           OR NOT EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = oauth_grants.id)
              AND NOT EXISTS (SELECT 1 FROM oauth_codes c WHERE c.grant_id = oauth_grants.id)
              AND created_at < ?`,
      )
      .run(dayAgo, dayAgo);
    this.db.prepare('DELETE FROM oauth_refresh_leases WHERE expires_at < ?').run(now);
  }

  private flowOf(row: Row): FlowRecord {
    const idHash = str(row, 'id_hash');
    const sealed = optStr(row, 'upstream_secret');
    return {
      idHash,
      workspaceId: str(row, 'workspace_id'),
      clientId: str(row, 'client_id'),
      redirectUri: str(row, 'redirect_uri'),
      codeChallenge: str(row, 'code_challenge'),
      clientState: optStr(row, 'client_state'),
      scopes: scopesOf(row),
      browserHash: str(row, 'browser_hash'),
      csrfHash: str(row, 'csrf_hash'),
      upstreamStateHash: optStr(row, 'upstream_state_hash'),
      upstreamVerifier:
        sealed === undefined ? undefined : this.open(sealed, `oauth_flows:${idHash}`),
      stage: str(row, 'stage') as FlowRecord['stage'],
      expiresAt: num(row, 'expires_at'),
      createdAt: num(row, 'created_at'),
    };
  }

  // Grants: one per completed authorization, holding the upstream tokens.

  createGrant(grant: GrantRecord): void {
    this.db
      .prepare(
        'INSERT INTO oauth_grants (id, workspace_id, client_id, scopes, upstream, upstream_version, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
      )
      .run(
        grant.id,
        grant.workspaceId,
        grant.clientId,
        grant.scopes.join(' '),
        grant.upstream === undefined ? null : this.sealUpstream(grant.id, grant.upstream),
        grant.createdAt,
      );
  }

  getGrant(id: string): GrantRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_grants WHERE id = ?').get(id) as
      | Row
      | undefined;
    if (row === undefined) return undefined;
    const sealed = optStr(row, 'upstream');
    return {
      id,
      workspaceId: str(row, 'workspace_id'),
      clientId: str(row, 'client_id'),
      scopes: scopesOf(row),
      upstream:
        sealed === undefined
          ? undefined
          : (JSON.parse(this.open(sealed, `oauth_grants:${id}`)) as UpstreamTokenSet),
      upstreamVersion: num(row, 'upstream_version'),
      revokedAt: optNum(row, 'revoked_at'),
      createdAt: num(row, 'created_at'),
    };
  }

  /** True when the grant exists and is not revoked (no secret is opened). */
  grantIsLive(id: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM oauth_grants WHERE id = ? AND revoked_at IS NULL').get(id) !==
      undefined
    );
  }

  /**
   * Replaces a grant's upstream tokens if nobody else did since `expectedVersion` (compare and
   * set, so two writers can't interleave); returns whether this write won.
   */
  replaceUpstream(id: string, expectedVersion: number, tokens: UpstreamTokenSet): boolean {
    return (
      this.db
        .prepare(
          `UPDATE oauth_grants SET upstream = ?, upstream_version = upstream_version + 1
           WHERE id = ? AND upstream_version = ? AND revoked_at IS NULL`,
        )
        .run(this.sealUpstream(id, tokens), id, expectedVersion).changes === 1
    );
  }

  /** Takes the grant's refresh lease if it is free or expired; true when `holder` now has it. */
  acquireLease(grantId: string, holder: string, expiresAt: number, now: number): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO oauth_refresh_leases (grant_id, holder, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (grant_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
           WHERE oauth_refresh_leases.expires_at <= ? OR oauth_refresh_leases.holder = excluded.holder`,
        )
        .run(grantId, holder, expiresAt, now).changes === 1
    );
  }

  releaseLease(grantId: string, holder: string): void {
    this.db
      .prepare('DELETE FROM oauth_refresh_leases WHERE grant_id = ? AND holder = ?')
      .run(grantId, holder);
  }

  /**
   * Revokes a grant: its upstream tokens are dropped and every proxy token of it stops working.
   * Returns the upstream tokens this call dropped (undefined when it was already revoked), so
   * that exactly one caller revokes them upstream.
   */
  revokeGrant(id: string, now: number): UpstreamTokenSet | undefined {
    return this.db
      .transaction(() => {
        const row = this.db
          .prepare('SELECT upstream FROM oauth_grants WHERE id = ? AND revoked_at IS NULL')
          .get(id) as Row | undefined;
        const sealed = row === undefined ? undefined : optStr(row, 'upstream');
        this.db
          .prepare(
            'UPDATE oauth_grants SET revoked_at = COALESCE(revoked_at, ?), upstream = NULL WHERE id = ?',
          )
          .run(now, id);
        this.db
          .prepare(
            'UPDATE oauth_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE grant_id = ?',
          )
          .run(now, id);
        return sealed === undefined
          ? undefined
          : (JSON.parse(this.open(sealed, `oauth_grants:${id}`)) as UpstreamTokenSet);
      })
      .immediate();
  }

  private sealUpstream(id: string, tokens: UpstreamTokenSet): string {
    return this.seal(JSON.stringify(tokens), `oauth_grants:${id}`);
  }

  // Proxy authorization codes (hashed, single use).

  saveCode(code: CodeRecord): void {
    this.db
      .prepare(
        `INSERT INTO oauth_codes (code_hash, grant_id, client_id, redirect_uri, code_challenge, scopes, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        code.codeHash,
        code.grantId,
        code.clientId,
        code.redirectUri,
        code.codeChallenge,
        code.scopes.join(' '),
        code.expiresAt,
      );
  }

  getCode(codeHash: string): CodeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_codes WHERE code_hash = ?').get(codeHash) as
      | Row
      | undefined;
    if (row === undefined) return undefined;
    return {
      codeHash,
      grantId: str(row, 'grant_id'),
      clientId: str(row, 'client_id'),
      redirectUri: str(row, 'redirect_uri'),
      codeChallenge: str(row, 'code_challenge'),
      scopes: scopesOf(row),
      expiresAt: num(row, 'expires_at'),
      usedAt: optNum(row, 'used_at'),
    };
  }

  /** Marks a code used; true only for the first caller. */
  useCode(codeHash: string, now: number): boolean {
    return (
      this.db
        .prepare('UPDATE oauth_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL')
        .run(now, codeHash).changes === 1
    );
  }

  // Proxy tokens (hashed).

  saveToken(token: TokenRecord): void {
    this.db
      .prepare(
        `INSERT INTO oauth_tokens (token_hash, kind, grant_id, client_id, workspace_id, scopes, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        token.tokenHash,
        token.kind,
        token.grantId,
        token.clientId,
        token.workspaceId,
        token.scopes.join(' '),
        token.expiresAt,
        token.createdAt,
      );
  }

  getToken(tokenHash: string): TokenRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_tokens WHERE token_hash = ?').get(tokenHash) as
      | Row
      | undefined;
    if (row === undefined) return undefined;
    return {
      tokenHash,
      kind: str(row, 'kind') as TokenRecord['kind'],
      grantId: str(row, 'grant_id'),
      clientId: str(row, 'client_id'),
      workspaceId: str(row, 'workspace_id'),
      scopes: scopesOf(row),
      expiresAt: num(row, 'expires_at'),
      rotatedAt: optNum(row, 'rotated_at'),
      revokedAt: optNum(row, 'revoked_at'),
      createdAt: num(row, 'created_at'),
    };
  }

  /** Marks a refresh token replaced by its successor; true only for the first caller. */
  markRotated(tokenHash: string, now: number): boolean {
    return (
      this.db
        .prepare(
          'UPDATE oauth_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL',
        )
        .run(now, tokenHash).changes === 1
    );
  }

  revokeToken(tokenHash: string, now: number): void {
    this.db
      .prepare('UPDATE oauth_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE token_hash = ?')
      .run(now, tokenHash);
  }

  // Upstream registrations (DCR) and service tokens (client_credentials), per workspace.

  getRegistration(workspaceId: string, configHash: string): Record<string, unknown> | undefined {
    const row = this.db
      .prepare('SELECT * FROM oauth_upstream_clients WHERE workspace_id = ? AND config_hash = ?')
      .get(workspaceId, configHash) as Row | undefined;
    if (row === undefined) return undefined;
    return JSON.parse(
      this.open(str(row, 'registration'), `oauth_upstream_clients:${workspaceId}`),
    ) as Record<string, unknown>;
  }

  saveRegistration(
    workspaceId: string,
    configHash: string,
    registration: Record<string, unknown>,
    now: number,
  ): void {
    this.db
      .prepare(
        `INSERT INTO oauth_upstream_clients (workspace_id, config_hash, registration, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (workspace_id) DO UPDATE SET config_hash = excluded.config_hash,
           registration = excluded.registration, created_at = excluded.created_at`,
      )
      .run(
        workspaceId,
        configHash,
        this.seal(JSON.stringify(registration), `oauth_upstream_clients:${workspaceId}`),
        now,
      );
  }

  getServiceToken(workspaceId: string): UpstreamTokenSet | undefined {
    const row = this.db
      .prepare('SELECT token FROM oauth_service_tokens WHERE workspace_id = ?')
      .get(workspaceId) as Row | undefined;
    if (row === undefined) return undefined;
    return JSON.parse(
      this.open(str(row, 'token'), `oauth_service_tokens:${workspaceId}`),
    ) as UpstreamTokenSet;
  }

  saveServiceToken(workspaceId: string, tokens: UpstreamTokenSet, now: number): void {
    this.db
      .prepare(
        `INSERT INTO oauth_service_tokens (workspace_id, token, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (workspace_id) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at`,
      )
      .run(
        workspaceId,
        this.seal(JSON.stringify(tokens), `oauth_service_tokens:${workspaceId}`),
        now,
      );
  }

  deleteServiceToken(workspaceId: string): void {
    this.db.prepare('DELETE FROM oauth_service_tokens WHERE workspace_id = ?').run(workspaceId);
  }
}
