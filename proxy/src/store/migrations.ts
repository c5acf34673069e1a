/**
 * Schema migrations, applied in order and recorded per scope in `schema_migrations`, so each
 * module (core, oauth, …) owns its own numbered list and can add tables without touching others.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  /** 1, 2, 3, … within its scope; never renumbered once shipped. */
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/** Applies the migrations of `scope` that are not yet recorded, each in its own transaction. */
export function migrate(db: Database.Database, scope: string, migrations: Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    scope TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (scope, version)
  )`);
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations WHERE scope = ?')
      .pluck()
      .all(scope) as number[],
  );
  const record = db.prepare(
    'INSERT INTO schema_migrations (scope, version, name, applied_at) VALUES (?, ?, ?, ?)',
  );
  const done: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      migration.up(db);
      record.run(scope, migration.version, migration.name, new Date().toISOString());
    })();
    done.push(migration.version);
  }
  return done;
}

/** The proxy core's own tables. */
export const coreMigrations: Migration[] = [
  {
    version: 1,
    name: 'settings and workspaces',
    up(db) {
      db.exec(`
        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );
        CREATE TABLE workspaces (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          data TEXT NOT NULL,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );
      `);
    },
  },
];
