import { sql } from 'drizzle-orm';
import type { Database, Queryable } from '../../platform/db/client';
import { createIngestionStore, type IngestionStore } from './store';

/** Advisory locks taken here use this first key, so they meet no other lock of the product. */
const SPAN_LOCK_NAMESPACE = 0x5350414e; // "SPAN"

/** A stored span: its id, where it is and whose. */
export interface StoredSpanFact {
  id: string;
  startMs: number;
  durationMs: number;
  deviceId: string;
}

/** What is stored that a batch could contradict. */
export interface StoredFacts {
  /** The person's stored total per local day (all devices), for the days asked. */
  dayTotals: Map<string, number>;
  /** The device's stored spans that reach into [from, to). */
  deviceSpans: StoredSpanFact[];
  /** Stored copies of the batch's span ids (at the same start, in the person's days, or near their minting). */
  known: StoredSpanFact[];
}

export function createTruthStore(database: Database) {
  return {
    /**
     * Runs `work` in a transaction holding a lock per person, so two batches of one person (one
     * device or several) are checked and stored one after the other, never interleaved. `work`
     * gets what is stored that the batch could contradict (read once the lock is held) and a
     * span store inside the same transaction (and the transaction's handle, for what else it writes).
     */
    async serialized<T>(q: FactsQuery, work: (facts: StoredFacts, spans: IngestionStore, tx: Database) => Promise<T>): Promise<T> {
      return database.transaction(async (tx) => {
        // Sent together, run in order on the transaction's connection: the read's snapshot is
        // taken once the lock is granted, so it sees what the previous holder committed.
        const [, facts] = await Promise.all([
          tx.rows(sql`select pg_advisory_xact_lock(${SPAN_LOCK_NAMESPACE}::int, hashtext(${q.userId}::text))::text as locked`),
          storedFacts(tx, q),
        ]);
        return work(facts, createIngestionStore(tx), tx);
      });
    },
  };
}
export type TruthStore = ReturnType<typeof createTruthStore>;

export interface FactsQuery {
  orgId: string;
  userId: string;
  deviceId: string;
  timeZone: string;
  /**
   * Disjoint [from, to) ranges (ISO instants) to read: the local days the batch's spans start in
   * (whole days, for their totals), the hour before each span, and where each id was minted.
   */
  ranges: { from: string; to: string }[];
  /** The device's spans reaching into [from, to) are returned. */
  from: string;
  to: string;
  ids: string[];
}

/**
 * One statement: the person's spans in the ranges over the (org_id, user_id, start) index and
 * the batch's ids over the primary key in the same ranges. The ranges are parameters, so each
 * plan reads only their daily partitions. Answers day totals, the device's spans near the
 * batch, and stored copies of the batch's ids.
 */
async function storedFacts(tx: Queryable, q: FactsQuery): Promise<StoredFacts> {
  const within = sql.join(
    q.ranges.map((r) => sql`(s.start >= ${r.from}::timestamptz and s.start < ${r.to}::timestamptz)`),
    sql` or `,
  );
  const rows = await tx.rows<{
    kind: string;
    day: string | null;
    ms: number | string;
    id: string | null;
    start: Date | string | null;
    device_id: string | null;
  }>(sql`
    with mine as materialized (
      select s.id, s.start, s.duration_ms, s.device_id from spans s
      where s.org_id = ${q.orgId}::uuid and s.user_id = ${q.userId}::uuid and (${within})
    )
    select 'day' as kind, to_char((start at time zone ${q.timeZone})::date, 'YYYY-MM-DD') as day, sum(duration_ms)::float8 as ms,
           null::uuid as id, null::timestamptz as start, null::uuid as device_id
    from mine group by 2
    union all
    select 'device', null, duration_ms::float8, id, start, device_id from mine
    where device_id = ${q.deviceId}::uuid and start < ${q.to}::timestamptz and start + duration_ms * interval '1 millisecond' > ${q.from}::timestamptz
    union all
    select 'known', null, s.duration_ms::float8, s.id, s.start, s.device_id from spans s
    where s.id = any(${`{${q.ids.join(',')}}`}::uuid[]) and (${within})`);
  const facts: StoredFacts = { dayTotals: new Map(), deviceSpans: [], known: [] };
  for (const r of rows) {
    if (r.kind === 'day') {
      facts.dayTotals.set(String(r.day), Number(r.ms));
      continue;
    }
    const fact = { id: String(r.id), startMs: new Date(r.start ?? 0).getTime(), durationMs: Number(r.ms), deviceId: String(r.device_id) };
    (r.kind === 'device' ? facts.deviceSpans : facts.known).push(fact);
  }
  return facts;
}
