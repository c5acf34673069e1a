/**
 * The proxy's embedded store: one SQLite database `<dataDir>/proxy.db` (WAL) holding workspaces
 * and settings, secrets sealed by a SecretBox. Other modules (OAuth) add their own tables through
 * `store.migrate(scope, migrations)` and seal their secrets with `store.secrets`.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { StoreError } from './errors';
import { coreMigrations, type Migration, migrate } from './migrations';
import { type KeySource, loadEncryptionKey, SecretBox } from './secret-box';
import { WorkspaceRepository } from './workspace-repository';

export { StoreError, type StoreErrorCode } from './errors';
export type { Migration } from './migrations';
export { parseEncryptionKey, SecretBox } from './secret-box';
export { mapAuthSecrets, mapWorkspaceSecrets, WorkspaceRepository } from './workspace-repository';

/** The database file's name inside the data dir. */
export const DATABASE_FILE_NAME = 'proxy.db';

export interface StoreOptions {
  /** Created with mode 0700 when missing. */
  dataDir: string;
  /** `PROXY_ENCRYPTION_KEY` (base64 or hex, 32 bytes); else `<dataDir>/encryption.key`. */
  encryptionKey?: string;
  logger?: Logger;
}

/** Small named values (e.g. the admin token's hash), plain text: never put a secret here unsealed. */
export interface SettingsRepository {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
}

export interface ProxyStore {
  readonly dataDir: string;
  /** The open database, for modules that keep their own tables. */
  readonly db: Database.Database;
  /** Seals and opens secrets under the store's key. */
  readonly secrets: SecretBox;
  readonly keySource: KeySource;
  readonly workspaces: WorkspaceRepository;
  readonly settings: SettingsRepository;
  /** Applies `migrations` recorded under `scope` (e.g. `'oauth'`); returns the versions applied. */
  migrate(scope: string, migrations: Migration[]): number[];
  close(): void;
}

const KEY_CHECK_SETTING = 'encryption_key_check';
const KEY_CHECK_PLAIN = 'proxy-store-key-check';

/** Opens (creating when needed) the store in `dataDir`; fails clearly on a key that doesn't fit. */
export function openStore(options: StoreOptions): ProxyStore {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { key, source } = loadEncryptionKey(dataDir, options.encryptionKey);
  const secrets = new SecretBox(key);

  const db = new Database(join(dataDir, DATABASE_FILE_NAME));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, 'core', coreMigrations);
    const settings = settingsRepository(db);
    checkKey(settings, secrets, source);
    options.logger?.debug({ dataDir, keySource: source }, 'store opened');
    return {
      dataDir,
      db,
      secrets,
      keySource: source,
      workspaces: new WorkspaceRepository(db, secrets),
      settings,
      migrate: (scope, migrations) => migrate(db, scope, migrations),
      close: () => {
        if (db.open) db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The first open records a sealed marker; later opens prove the key is the same one. */
function checkKey(settings: SettingsRepository, secrets: SecretBox, source: KeySource): void {
  const marker = settings.get(KEY_CHECK_SETTING);
  if (marker === undefined) {
    settings.set(KEY_CHECK_SETTING, secrets.seal(KEY_CHECK_PLAIN, KEY_CHECK_SETTING));
    return;
  }
  try {
    if (secrets.open(marker, KEY_CHECK_SETTING) === KEY_CHECK_PLAIN) return;
  } catch {
    // Falls through to the error below, which says what to do.
  }
  throw new StoreError(
    'ERR_ENCRYPTION_KEY_MISMATCH',
    `this data dir was encrypted with another key than the one from the ${source}; ` +
      'use the original PROXY_ENCRYPTION_KEY (or encryption.key file), or start with a new --data-dir',
  );
}

function settingsRepository(db: Database.Database): SettingsRepository {
  const select = db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck();
  const upsert = db.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const remove = db.prepare('DELETE FROM settings WHERE key = ?');
  return {
    get: (key) => select.get(key),
    set: (key, value) => {
      upsert.run(key, value);
    },
    delete: (key) => {
      remove.run(key);
    },
  };
}
