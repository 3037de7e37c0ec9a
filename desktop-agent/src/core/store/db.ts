import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile, tightenIfPresent } from './private-files';

/** A problem with the local database file, always naming the file. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE spans (
     id TEXT PRIMARY KEY,
     start_ms INTEGER NOT NULL,
     duration_ms INTEGER NOT NULL,
     app TEXT,
     title TEXT,
     idle INTEGER NOT NULL DEFAULT 0,
     recorded_ms INTEGER NOT NULL,
     batch_id TEXT,
     synced_ms INTEGER,
     rejected_reason TEXT
   );
   CREATE INDEX spans_unsent ON spans (start_ms) WHERE synced_ms IS NULL AND rejected_reason IS NULL;
   CREATE INDEX spans_batch ON spans (batch_id) WHERE batch_id IS NOT NULL;
   CREATE INDEX spans_start ON spans (start_ms);
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
   CREATE TABLE receipts (
     receipt_id TEXT PRIMARY KEY,
     received_ms INTEGER NOT NULL,
     decision TEXT NOT NULL,
     policy_version INTEGER NOT NULL,
     jws TEXT NOT NULL,
     payload TEXT NOT NULL,
     verified INTEGER NOT NULL
   );
   CREATE TABLE device (
     only INTEGER PRIMARY KEY CHECK (only = 1),
     device_id TEXT NOT NULL,
     org_id TEXT NOT NULL,
     server_url TEXT NOT NULL,
     key_file TEXT NOT NULL,
     enrolled_ms INTEGER NOT NULL
   );`,
  // Imported history (ActivityWatch): the import grant its spans go under; null for captured spans.
  `ALTER TABLE spans ADD COLUMN import_grant_id TEXT;
   CREATE INDEX spans_import ON spans (import_grant_id) WHERE import_grant_id IS NOT NULL;`,
];

function describe(error: unknown, file: string): StoreError {
  const code = error instanceof Database.SqliteError ? error.code : '';
  const detail = error instanceof Error ? error.message : String(error);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      `The agent database ${file} is locked by another process (${detail}); is another icarus-agent running? The file was not touched.`,
      file,
    );
  }
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT') || /malformed|not a database/i.test(detail)) {
    return new StoreError(
      `The agent database ${file} is damaged (${detail}). It has been left in place for inspection; move it aside to start a fresh one.`,
      file,
    );
  }
  return new StoreError(`Cannot use the agent database ${file}: ${detail}`, file);
}

/**
 * Opens (creating if absent) and migrates the agent's SQLite file in WAL mode. Never deletes
 * or recreates an existing file: a damaged or locked one yields a StoreError naming it.
 */
export function openDatabase(file: string, busyTimeoutMs = 2000): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (file !== ':memory:') {
      ensurePrivateDir(dirname(file));
      // SQLite gives the -wal and -shm it creates the database file's mode: make that 0600 first.
      ensurePrivateFile(file);
    }
    db = new Database(file, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    if (file !== ':memory:') for (const extra of ['-wal', '-shm']) tightenIfPresent(`${file}${extra}`);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`integrity check: ${String(check)}`);
    migrate(db, file);
    return db;
  } catch (error) {
    db?.close();
    throw error instanceof StoreError ? error : describe(error, file);
  }
}

function migrate(db: Database.Database, file: string): void {
  // BEGIN IMMEDIATE takes the write lock now, so a locked file fails here, clearly.
  db.transaction(() => {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > MIGRATIONS.length) {
      throw new StoreError(`The agent database ${file} was written by a newer agent (schema ${version}); update the agent.`, file);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      const sql = MIGRATIONS[v];
      if (sql !== undefined) db.exec(sql);
    }
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
