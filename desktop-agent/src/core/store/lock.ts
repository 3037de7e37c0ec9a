import Database from 'better-sqlite3';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { StoreError } from './db';
import { ensurePrivateDir, ensurePrivateFile, writePrivateFile } from './private-files';

export const LOCK_FILE = 'agent.lock';
/** Who holds the lock, for the message a second agent prints (the lock file itself is unreadable while held). */
export const LOCK_HOLDER_FILE = 'agent.lock.holder';

const Holder = z.object({ pid: z.int(), sinceMs: z.int() });

/** Another agent (headless or tray) is capturing into this data folder. */
export class DataFolderBusy extends StoreError {
  constructor(
    dataDir: string,
    readonly holder: z.infer<typeof Holder> | undefined,
  ) {
    super(
      holder
        ? `The data folder ${dataDir} is in use by another icarus agent (pid ${holder.pid}, since ${new Date(holder.sinceMs).toISOString()}); stop it first, or use another --data-dir. Nothing was captured.`
        : `The data folder ${dataDir} is in use by another icarus agent; stop it first, or use another --data-dir. Nothing was captured.`,
      join(dataDir, LOCK_FILE),
    );
    this.name = 'DataFolderBusy';
  }
}

/**
 * One capturing agent per data folder: two would record the same seconds twice. The lock is an
 * SQLite file kept open in exclusive locking mode, so the operating system releases it when the
 * holder exits in any way (a crash or SIGKILL leaves no stale lock, and a reused pid cannot
 * fake one). Commands that only read or edit the store (status, pause, consent) do not take it.
 */
export class DataFolderLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly holderFile: string,
  ) {}

  static acquire(dataDir: string, now: number = Date.now()): DataFolderLock {
    ensurePrivateDir(dataDir);
    const file = join(dataDir, LOCK_FILE);
    const holderFile = join(dataDir, LOCK_HOLDER_FILE);
    let db: Database.Database | undefined;
    try {
      ensurePrivateFile(file);
      db = new Database(file, { timeout: 0 });
      db.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the exclusive lock; in this mode it is kept until close.
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since_ms INTEGER NOT NULL); DELETE FROM holder;');
      db.prepare('INSERT INTO holder (pid, since_ms) VALUES (?, ?)').run(process.pid, now);
    } catch (error) {
      db?.close();
      const code = error instanceof Database.SqliteError ? error.code : '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) throw new DataFolderBusy(dataDir, readHolder(holderFile));
      throw new StoreError(`Cannot lock the data folder ${dataDir} (${file}): ${error instanceof Error ? error.message : String(error)}`, file);
    }
    writePrivateFile(holderFile, JSON.stringify({ pid: process.pid, sinceMs: now }));
    return new DataFolderLock(db, holderFile);
  }

  release(): void {
    if (!this.db.open) return;
    rmSync(this.holderFile, { force: true });
    this.db.close();
  }
}

function readHolder(file: string): z.infer<typeof Holder> | undefined {
  try {
    const parsed = Holder.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // the holder has not written it yet, or it was removed: the lock alone says "busy"
  }
}
