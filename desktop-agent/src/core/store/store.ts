import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { openDatabase } from './db';
import { SpanStore } from './spans';
import { StateStore } from './state';

export const DB_FILE = 'agent.db';
export const KEY_FILE = 'device-key.jwk';

/** The agent's local store: one SQLite file (WAL) plus the key file, in one data folder. */
export class AgentStore {
  readonly spans: SpanStore;
  readonly state: StateStore;
  readonly file: string;
  readonly keyFile: string;

  private constructor(
    private readonly db: Database.Database,
    readonly dataDir: string,
    file: string,
  ) {
    this.file = file;
    this.keyFile = join(dataDir, KEY_FILE);
    this.spans = new SpanStore(db);
    this.state = new StateStore(db, file);
  }

  static open(dataDir: string): AgentStore {
    const file = join(dataDir, DB_FILE);
    return new AgentStore(openDatabase(file), dataDir, file);
  }

  /** Changes whenever another connection (another icarus-agent command) commits. */
  dataVersion(): number {
    return Number(this.db.pragma('data_version', { simple: true }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
