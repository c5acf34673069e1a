/**
 * Workspaces in SQLite. Each row holds the workspace as JSON with every secret field sealed by the
 * SecretBox (bound to the workspace id and field), so the database file never holds one in clear.
 */
import type Database from 'better-sqlite3';
import type { UpstreamAuth, Workspace } from '../types';
import { StoreError } from './errors';
import type { SecretBox } from './secret-box';

interface WorkspaceRow {
  id: string;
  data: string;
}

export class WorkspaceRepository {
  readonly #db: Database.Database;
  readonly #secrets: SecretBox;
  readonly #select: Database.Statement<[string], WorkspaceRow>;
  readonly #selectAll: Database.Statement<[], WorkspaceRow>;
  readonly #insert: Database.Statement<[string, string, string, string, string]>;
  readonly #update: Database.Statement<[string, string, string, string]>;
  readonly #delete: Database.Statement<[string]>;
  /** Decoded workspaces by their stored JSON: an unchanged row is not decrypted again. */
  readonly #decoded = new Map<string, { data: string; workspace: Workspace }>();

  constructor(db: Database.Database, secrets: SecretBox) {
    this.#db = db;
    this.#secrets = secrets;
    this.#select = db.prepare('SELECT id, data FROM workspaces WHERE id = ?');
    this.#selectAll = db.prepare('SELECT id, data FROM workspaces ORDER BY id');
    this.#insert = db.prepare(
      'INSERT INTO workspaces (id, name, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#update = db.prepare(
      'UPDATE workspaces SET name = ?, data = ?, updated_at = ? WHERE id = ?',
    );
    this.#delete = db.prepare('DELETE FROM workspaces WHERE id = ?');
  }

  /** Every workspace, ordered by id. */
  list(): Workspace[] {
    return this.#selectAll.all().map((row) => this.#decode(row));
  }

  get(id: string): Workspace | undefined {
    const row = this.#select.get(id);
    return row === undefined ? undefined : this.#decode(row);
  }

  /** Inserts a new workspace; ERR_WORKSPACE_EXISTS when the id is taken. */
  create(workspace: Workspace): Workspace {
    if (this.#select.get(workspace.id) !== undefined) {
      throw new StoreError('ERR_WORKSPACE_EXISTS', `workspace "${workspace.id}" already exists`);
    }
    this.#insert.run(
      workspace.id,
      workspace.name,
      this.#encode(workspace),
      workspace.createdAt,
      workspace.updatedAt,
    );
    return workspace;
  }

  /** Replaces a stored workspace; ERR_WORKSPACE_NOT_FOUND when there is none with its id. */
  update(workspace: Workspace): Workspace {
    const result = this.#update.run(
      workspace.name,
      this.#encode(workspace),
      workspace.updatedAt,
      workspace.id,
    );
    if (result.changes === 0) {
      throw new StoreError('ERR_WORKSPACE_NOT_FOUND', `workspace "${workspace.id}" does not exist`);
    }
    return workspace;
  }

  /** Reads, changes and writes one workspace in a single transaction. */
  modify(id: string, change: (current: Workspace) => Workspace): Workspace {
    return this.#db.transaction(() => {
      const current = this.get(id);
      if (current === undefined) {
        throw new StoreError('ERR_WORKSPACE_NOT_FOUND', `workspace "${id}" does not exist`);
      }
      return this.update({ ...change(current), id });
    })();
  }

  /** Removes a workspace; false when there was none. */
  delete(id: string): boolean {
    this.#decoded.delete(id);
    return this.#delete.run(id).changes > 0;
  }

  #encode(workspace: Workspace): string {
    const box = this.#secrets;
    const sealed = mapWorkspaceSecrets(workspace, (value, field) =>
      box.seal(value, secretContext(workspace.id, field)),
    );
    return JSON.stringify(sealed);
  }

  /**
   * Rows are read on every MCP request; decrypting is most of that cost, so the result is kept
   * per row content (any write changes the content: fresh IVs). Cached objects are frozen: a
   * workspace is changed by building a new one, never in place.
   */
  #decode(row: WorkspaceRow): Workspace {
    const hit = this.#decoded.get(row.id);
    if (hit !== undefined && hit.data === row.data) return hit.workspace;
    const stored = JSON.parse(row.data) as Workspace;
    const box = this.#secrets;
    const workspace = deepFreeze(
      mapWorkspaceSecrets(stored, (value, field) => box.open(value, secretContext(row.id, field))),
    );
    if (this.#decoded.size >= MAX_DECODED) this.#decoded.clear();
    this.#decoded.set(row.id, { data: row.data, workspace });
    return workspace;
  }
}

const MAX_DECODED = 1000;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

function secretContext(workspaceId: string, field: string): string {
  return `workspace:${workspaceId}:${field}`;
}

/**
 * A copy of `workspace` with `map` applied to every secret field: the access key and the auth's
 * token, API key, header values, client secret and initial access token. `field` names the field
 * (`accessKey`, `auth.token`, `auth.headers.X-Tenant-Id`, …).
 */
export function mapWorkspaceSecrets(
  workspace: Workspace,
  map: (value: string, field: string) => string,
): Workspace {
  const result: Workspace = { ...workspace, auth: mapAuthSecrets(workspace.auth, map) };
  if (workspace.accessKey !== undefined) result.accessKey = map(workspace.accessKey, 'accessKey');
  return result;
}

/** A copy of `auth` with `map` applied to each secret value it holds. */
export function mapAuthSecrets(
  auth: UpstreamAuth,
  map: (value: string, field: string) => string,
): UpstreamAuth {
  switch (auth.type) {
    case 'none':
      return { ...auth };
    case 'bearer':
      return { ...auth, token: map(auth.token, 'auth.token') };
    case 'apiKey':
      return { ...auth, value: map(auth.value, 'auth.value') };
    case 'headers':
      return {
        ...auth,
        headers: Object.fromEntries(
          Object.entries(auth.headers).map(([name, value]) => [
            name,
            map(value, `auth.headers.${name}`),
          ]),
        ),
      };
    case 'oauth2': {
      const result = { ...auth };
      if (auth.clientSecret !== undefined) {
        result.clientSecret = map(auth.clientSecret, 'auth.clientSecret');
      }
      if (auth.initialAccessToken !== undefined) {
        result.initialAccessToken = map(auth.initialAccessToken, 'auth.initialAccessToken');
      }
      return result;
    }
  }
}
