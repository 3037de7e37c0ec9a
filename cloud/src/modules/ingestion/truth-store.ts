import { sql } from 'drizzle-orm';
import { MAX_DAY_MS, MAX_SPAN_MS } from '@icarus/shared';
import type { Database, Queryable, Statement } from '../../platform/db/client';
import { createIngestionStore, type IngestionStore, type SpanRow } from './store';

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

/** An instant as JavaScript's toISOString writes it (the event's `from` and `to`). */
const ISO_INSTANT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

/**
 * The people's locks, taken first in the quick path's transaction ($1: their ids), in the order of
 * their keys: two transactions that lock some of the same people never wait on each other in a circle.
 * It also makes the transaction's statements run their generic plans: the store reads `spans` four
 * times, and a custom plan pruned its ~100 day partitions on each run, which cost more than the run
 * itself for a small batch (0.9 ms planning against 0.4 ms executing, 5 spans); the generic plan
 * prunes when it starts, from the same parameters.
 */
const LOCK_PEOPLE = `
  select count(*)::int as locked, set_config('plan_cache_mode', 'force_generic_plan', true) as plans from (
    select pg_advisory_xact_lock(${SPAN_LOCK_NAMESPACE}::int, k.key) from (
      select distinct hashtext(u) as key from unnest($1::text[]) u order by 1
    ) k
  ) l`;

/**
 * The quick path's one statement, run once the person's lock is held (so its snapshot sees what
 * the previous holder committed): the batch is stored with its outbox row only if nothing stored
 * contradicts it. $1 org, $2 person, $3 device, $4 the spans (JSON), $5 the batch's local days
 * with what it adds to each (JSON), $6..$7 bounds around its days and the hour before each
 * span, $8..$9 around where its ids were minted, $10 its ids (the bounds repeated in each read, so a plan reads only
 * their daily partitions), $11..$13 the `batch.ingested` event's id, the batch id and the event's
 * time (no event when $11 is null: no broker). Each step is one CTE: the spans, the rollups'
 * outbox row, and the event (counts and the time covered, as `batchIngested` in service.ts makes
 * it, and only when something new was stored), all in the statement that stores the batch.
 */
const STORE_IF_TRUE = `
  with batch as (
    select * from json_to_recordset($4::json)
      as u(id uuid, start timestamptz, duration_ms int, app text, title_enc text, idle boolean)
  ),
  near as materialized (
    -- the device's stored spans that could overlap one of the batch's. A device's stored spans
    -- never overlap each other (every path that stores one checks it), so sorted by start their
    -- ends are sorted too: of those begun before the batch, only the last can reach into it (none
    -- is longer than ${MAX_SPAN_MS} ms); then those begun within the batch's time. Reading every span of
    -- the hour before it cost as much as the rest of the statement.
    (select s.start, s.start + s.duration_ms * interval '1 millisecond' as finish from spans s
     where s.org_id = $1::uuid and s.user_id = $2::uuid and s.device_id = $3::uuid
       and s.start >= $6::timestamptz and s.start < $7::timestamptz
       and s.start > (select min(b.start) from batch b) - interval '${MAX_SPAN_MS} milliseconds'
       and s.start < (select min(b.start) from batch b)
       and s.duration_ms > 0
     order by s.start desc
     limit 1)
    union all
    select s.start, s.start + s.duration_ms * interval '1 millisecond' from spans s
    where s.org_id = $1::uuid and s.user_id = $2::uuid and s.device_id = $3::uuid
      and s.start >= $6::timestamptz and s.start < $7::timestamptz
      and s.start >= (select min(b.start) from batch b)
      and s.start < (select max(b.start + b.duration_ms * interval '1 millisecond') from batch b)
      and s.duration_ms > 0
  ),
  clash as (
    -- a stored copy of one of its ids (a resend, a changed start, another device's id)
    (select 1 from spans s
     where s.id = any($10::uuid[])
       and (s.start >= $6::timestamptz and s.start < $7::timestamptz or s.start >= $8::timestamptz and s.start < $9::timestamptz)
     limit 1)
    union all
    -- a stored span of the device overlapping one of its spans (empty spans overlap nothing): in
    -- start order, a span of one side that begins before the latest end among the other side's
    -- earlier spans (ties in either order are caught, as the later one begins before the other ends)
    (select 1 from (
       select t.stored, t.start,
              max(t.finish) filter (where t.stored) over w as stored_end,
              max(t.finish) filter (where not t.stored) over w as batch_end
       from (select true as stored, n.start, n.finish from near n
             union all
             select false, b.start, b.start + b.duration_ms * interval '1 millisecond' from batch b where b.duration_ms > 0) t
       window w as (order by t.start rows between unbounded preceding and 1 preceding)
     ) o
     where (not o.stored and o.stored_end > o.start) or (o.stored and o.batch_end > o.start)
     limit 1)
    union all
    -- a local day of the person (all devices) it would take over 24 hours
    (select 1 from json_to_recordset($5::json) as d(f timestamptz, t timestamptz, ms float8)
     where d.ms + coalesce((select sum(s.duration_ms) from spans s
                            where s.org_id = $1::uuid and s.user_id = $2::uuid and s.start >= d.f and s.start < d.t
                              and s.start >= $6::timestamptz and s.start < $7::timestamptz), 0) > ${MAX_DAY_MS}
     limit 1)
  ),
  stored as (
    insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, title_enc, idle)
    select b.id, b.start, $1::uuid, $3::uuid, $2::uuid, b.duration_ms, b.app, decode(b.title_enc, 'base64'), b.idle
    from batch b
    where not exists (select 1 from clash)
    on conflict do nothing
    returning id, start
  ),
  owed as (
    insert into span_inserts (org_id, user_id, span_ids, starts)
    select $1::uuid, $2::uuid, array_agg(id), array_agg(start) from stored having count(*) > 0
  ),
  announced as (
    insert into event_outbox (org_id, id, name, subject, time, data)
    select $1::uuid, $11::uuid, 'batch.ingested', $12::text, $13::timestamptz,
           jsonb_build_object(
             'orgId', $1::uuid::text, 'deviceId', $3::uuid::text, 'userId', $2::uuid::text, 'batchId', $12::text,
             'spans', count(*), 'durationMs', sum(b.duration_ms),
             'from', to_char(min(b.start) at time zone 'UTC', '${ISO_INSTANT}'),
             'to', to_char(max(b.start + b.duration_ms * interval '1 millisecond') at time zone 'UTC', '${ISO_INSTANT}'))
    from stored s join batch b on b.id = s.id
    where $11::uuid is not null
    having count(*) > 0
  )
  select id::text as id from stored
  union all
  (select null from clash limit 1)`;

/** The `batch.ingested` event of a batch, written by the statement that stores it (only with a broker). */
export interface BatchEvent {
  id: string;
  batchId: string;
  time: Date;
}

/** Batches waiting for a transaction, each with its statement and who waits for its answer. */
interface Waiting {
  userId: string;
  store: Statement;
  resolve: (answer: Record<string, unknown>[]) => void;
  reject: (error: unknown) => void;
}

/**
 * How many quick-path transactions run at once: as many as the benchmark's pool has connections,
 * so batches never wait for a transaction while a connection is free. A request that finds one
 * free goes at once; when all are busy the others wait for the next and share it (one commit, one
 * flush of the log for all of them). Fewer share more: 3 made a live fleet at 16 in flight on 2
 * cores faster (853-867 requests/s against 705-738), but the 10,000-device steady state's sync
 * p99 rose to 51-123 ms against 28-29 ms with 8 (docs/SCALING.md).
 */
const QUICK_TRANSACTIONS = 8;
/** Batches in one shared transaction at most. */
const QUICK_GROUP = 32;

export function createTruthStore(database: Database) {
  const waiting: Waiting[] = [];
  let running = 0;

  /** The batches' locks, then each batch's statement, one transaction sent at once. */
  async function run(group: readonly Waiting[]): Promise<void> {
    const people = [...new Set(group.map((w) => w.userId))];
    const [locked, ...answers] = await database.atOnce([{ text: LOCK_PEOPLE, params: [`{${people.join(',')}}`] }, ...group.map((w) => w.store)]);
    if (locked?.length !== 1 || answers.length !== group.length) {
      throw new Error('the quick ingest transaction answered no rows');
    }
    for (const [i, w] of group.entries()) w.resolve(answers[i] ?? []);
  }

  function pump(): void {
    while (running < QUICK_TRANSACTIONS && waiting.length > 0) {
      const group = waiting.splice(0, QUICK_GROUP);
      running++;
      run(group)
        .catch(async (error: unknown) => {
          if (group.length === 1) return group[0]?.reject(error);
          // One batch's failure aborts the shared transaction: each again on its own, so it fails alone.
          await Promise.all(group.map((w) => run([w]).catch(w.reject)));
        })
        .finally(() => {
          running--;
          pump();
        });
    }
  }

  return {
    /**
     * The steady state's one round trip: the person's lock, then the batch stored with its outbox
     * rows (the rollups', and `batch.ingested` when `event` is given) if nothing stored contradicts
     * it, in one transaction sent at once; under load several batches share that transaction. The
     * ids stored (fewer than sent if another person's device stored one meanwhile), or undefined
     * when something stored contradicts the batch and nothing was stored: judge it the full way.
     */
    async storeIfTrue(
      owner: { orgId: string; userId: string; deviceId: string },
      check: QuickCheck,
      rows: readonly SpanRow[],
      event?: BatchEvent,
    ): Promise<string[] | undefined> {
      const spans = JSON.stringify(rows.map((r) => ({ id: r.id, start: r.start, duration_ms: r.durationMs, app: r.app, title_enc: r.titleEnc, idle: r.idle })));
      const days = JSON.stringify(check.days.map((d) => ({ f: d.from, t: d.to, ms: d.ms })));
      const store: Statement = {
        text: STORE_IF_TRUE,
        params: [
          ...[owner.orgId, owner.userId, owner.deviceId, spans, days],
          ...[check.spans.from, check.spans.to, check.minted.from, check.minted.to, `{${rows.map((r) => r.id).join(',')}}`],
          ...(event ? [event.id, event.batchId, event.time.toISOString()] : [null, null, null]),
        ],
      };
      const answer = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
        waiting.push({ userId: owner.userId, store, resolve, reject });
        pump();
      });
      if (answer.some((r) => r['id'] === null)) return undefined;
      return answer.map((r) => String(r['id']));
    },

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

/** [from, to) as ISO instants. */
export interface Bounds {
  from: string;
  to: string;
}

/** The quick check of a batch: its local days with what it adds to each, and bounds around what the full check reads. */
export interface QuickCheck {
  days: (Bounds & { ms: number })[];
  /** Around the batch's days and the hour before each span. */
  spans: Bounds;
  /** Around where the batch's ids were minted. */
  minted: Bounds;
}

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
