import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { Scope } from '@icarus/shared';
import type { LocalSpan } from '../capture/merger';

const DAY_MS = 86_400_000;

export interface StoredSpan extends LocalSpan {
  recordedMs: number;
  batchId: string | null;
  syncedMs: number | null;
  rejectedReason: string | null;
  /** The import grant this span came in under (imported history); null for captured spans. */
  importGrantId: string | null;
}

interface Row {
  id: string;
  start_ms: number;
  duration_ms: number;
  app: string | null;
  title: string | null;
  idle: number;
  recorded_ms: number;
  batch_id: string | null;
  synced_ms: number | null;
  rejected_reason: string | null;
  import_grant_id: string | null;
}

function fromRow(row: Row): StoredSpan {
  const span: StoredSpan = {
    id: row.id,
    start: row.start_ms,
    durationMs: row.duration_ms,
    recordedMs: row.recorded_ms,
    batchId: row.batch_id,
    syncedMs: row.synced_ms,
    rejectedReason: row.rejected_reason,
    importGrantId: row.import_grant_id,
  };
  if (row.idle === 1) span.idle = true;
  if (row.app !== null) span.app = row.app;
  if (row.title !== null) span.title = row.title;
  return span;
}

export interface Batch {
  batchId: string;
  spans: StoredSpan[];
  /** Set when the batch is imported history: every span of it is under this grant (a batch never mixes). */
  importGrantId: string | null;
}

const UNSENT = 'synced_ms IS NULL AND rejected_reason IS NULL';

/** Closed spans on the device, and their way to the server. */
export class SpanStore {
  constructor(
    private readonly db: Database.Database,
    private readonly newBatchId: () => string = randomUUID,
  ) {}

  private all(sql: string, ...params: unknown[]): StoredSpan[] {
    return this.db
      .prepare<unknown[], Row>(sql)
      .all(...params)
      .map(fromRow);
  }

  /** Stores closed spans; imported history names its import grant. Ids already stored are left as they are. */
  insert(spans: readonly LocalSpan[], recordedMs: number, importGrantId: string | null = null): number {
    if (spans.length === 0) return 0;
    const stmt = this.db.prepare(
      'INSERT OR IGNORE INTO spans (id, start_ms, duration_ms, app, title, idle, recorded_ms, import_grant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    return this.db.transaction(() => {
      let added = 0;
      for (const s of spans) added += stmt.run(s.id, s.start, s.durationMs, s.app ?? null, s.title ?? null, s.idle ? 1 : 0, recordedMs, importGrantId).changes;
      return added;
    })();
  }

  /** A withdrawn import: every span it brought onto this device goes, sent or not. */
  deleteImported(importGrantId: string): number {
    return this.db.prepare('DELETE FROM spans WHERE import_grant_id = ?').run(importGrantId).changes;
  }

  /**
   * The batch to send next: an already-assigned one that never got an answer (so a crash
   * mid-send resends the same batch id with the same spans), else a new one made of the oldest
   * unassigned unsent spans that ended before `endedBefore` (review before send).
   */
  nextBatch(limit: number, endedBefore: number): Batch | undefined {
    return this.db
      .transaction((): Batch | undefined => {
        const open = this.db
          .prepare<[], { batch_id: string }>(`SELECT batch_id FROM spans WHERE batch_id IS NOT NULL AND ${UNSENT} ORDER BY start_ms LIMIT 1`)
          .get();
        if (open) {
          const spans = this.all(`SELECT * FROM spans WHERE batch_id = ? AND ${UNSENT} ORDER BY start_ms, id`, open.batch_id);
          return { batchId: open.batch_id, spans, importGrantId: spans[0]?.importGrantId ?? null };
        }
        // The oldest waiting span decides what the batch is: captured spans, or one import's history.
        const first = this.db
          .prepare<[number], { import_grant_id: string | null }>(
            `SELECT import_grant_id FROM spans WHERE batch_id IS NULL AND ${UNSENT} AND start_ms + duration_ms <= ? ORDER BY start_ms, id LIMIT 1`,
          )
          .get(endedBefore);
        if (!first) return undefined;
        const importGrantId = first.import_grant_id;
        const ids = this.db
          .prepare<[number, string | null, number], { id: string }>(
            `SELECT id FROM spans WHERE batch_id IS NULL AND ${UNSENT} AND start_ms + duration_ms <= ? AND import_grant_id IS ? ORDER BY start_ms, id LIMIT ?`,
          )
          .all(endedBefore, importGrantId, limit)
          .map((r) => r.id);
        const batchId = this.newBatchId();
        const assign = this.db.prepare('UPDATE spans SET batch_id = ? WHERE id = ?');
        for (const id of ids) assign.run(batchId, id);
        return { batchId, spans: this.all(`SELECT * FROM spans WHERE batch_id = ? ORDER BY start_ms, id`, batchId), importGrantId };
      })
      .immediate();
  }

  /** The server answered 2xx: every span of the batch is synced except the rejected ones. */
  settleBatch(batchId: string, rejected: ReadonlyMap<string, string>, syncedMs: number): void {
    this.db.transaction(() => {
      const reject = this.db.prepare('UPDATE spans SET rejected_reason = ? WHERE id = ? AND batch_id = ?');
      for (const [id, reason] of rejected) reject.run(reason, id, batchId);
      this.db.prepare(`UPDATE spans SET synced_ms = ? WHERE batch_id = ? AND ${UNSENT}`).run(syncedMs, batchId);
    })();
  }

  /**
   * The server refused a batch because of some of its spans: keep exactly those, marked with
   * the server's reason, and free the others to go again in a new batch (a new batch id: the
   * refused one is never resent with different contents).
   */
  quarantine(batchId: string, rejected: ReadonlyMap<string, string>): void {
    this.db.transaction(() => {
      const reject = this.db.prepare(`UPDATE spans SET rejected_reason = ? WHERE id = ? AND batch_id = ? AND ${UNSENT}`);
      for (const [id, reason] of rejected) reject.run(reason, id, batchId);
      this.db.prepare(`UPDATE spans SET batch_id = NULL WHERE batch_id = ? AND ${UNSENT}`).run(batchId);
    })();
  }

  /** The server refused the whole batch for good (4xx other than auth): keep it, with why. */
  refuseBatch(batchId: string, reason: string): void {
    this.db.prepare(`UPDATE spans SET rejected_reason = ? WHERE batch_id = ? AND ${UNSENT}`).run(reason, batchId);
  }

  pendingCount(): number {
    return this.db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM spans WHERE ${UNSENT}`).get()?.n ?? 0;
  }

  droppedCount(): number {
    return this.db.prepare<[], { value: number }>("SELECT value FROM counters WHERE name = 'dropped_spans'").get()?.value ?? 0;
  }

  /**
   * Keeps the device bounded: unsent spans older than the policy's local retention are dropped
   * and counted (the count goes to the server with every batch); sent ones simply age out.
   */
  enforceRetention(now: number, localRetentionDays: number): number {
    const cutoff = now - localRetentionDays * DAY_MS;
    return this.db.transaction(() => {
      // Imported history waits for its sync however old it is (the person consented to send it).
      const dropped = this.db.prepare(`DELETE FROM spans WHERE ${UNSENT} AND import_grant_id IS NULL AND start_ms < ?`).run(cutoff).changes;
      this.db.prepare('DELETE FROM spans WHERE NOT (' + UNSENT + ') AND start_ms < ?').run(cutoff);
      if (dropped > 0) {
        this.db
          .prepare("INSERT INTO counters (name, value) VALUES ('dropped_spans', ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value")
          .run(dropped);
      }
      return dropped;
    })();
  }

  /**
   * Withdrawal: removes what the withdrawn scopes recorded from spans not yet sent. Active spans
   * go with app_usage, idle spans with idle; for window_titles only the title is removed, since
   * the person still agrees to the app being recorded. Imported history is under its own grant
   * (withdrawn with `withdraw-import`) and is left alone.
   */
  purgeScopes(scopes: readonly Scope[]): number {
    return this.db.transaction(() => {
      let changed = 0;
      const live = `${UNSENT} AND import_grant_id IS NULL`;
      if (scopes.includes('app_usage')) changed += this.db.prepare(`DELETE FROM spans WHERE ${live} AND app IS NOT NULL`).run().changes;
      if (scopes.includes('idle')) changed += this.db.prepare(`DELETE FROM spans WHERE ${live} AND idle = 1`).run().changes;
      if (scopes.includes('window_titles')) {
        changed += this.db.prepare(`UPDATE spans SET title = NULL WHERE ${live} AND title IS NOT NULL`).run().changes;
      }
      return changed;
    })();
  }

  /** `forget <span id|app>`: deletes matching spans that have not started leaving the device. */
  forget(idOrApp: string): number {
    return this.db.prepare(`DELETE FROM spans WHERE ${UNSENT} AND batch_id IS NULL AND (id = ? OR app = ?)`).run(idOrApp, idOrApp).changes;
  }

  /** The server's erase_local directive: every span on the device goes. */
  eraseAll(): number {
    return this.db.prepare('DELETE FROM spans').run().changes;
  }

  between(from: number, to: number): StoredSpan[] {
    return this.all('SELECT * FROM spans WHERE start_ms >= ? AND start_ms < ? ORDER BY start_ms, id', from, to);
  }

  unsent(): StoredSpan[] {
    return this.all(`SELECT * FROM spans WHERE ${UNSENT} ORDER BY start_ms, id`);
  }

  everything(): StoredSpan[] {
    return this.all('SELECT * FROM spans ORDER BY start_ms, id');
  }
}
