import { sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/db/client';

export interface SpanRow {
  id: string;
  start: string;
  durationMs: number;
  app: string | null;
  /** base64 of the sealed title, decoded in SQL. */
  titleEnc: string | null;
  idle: boolean;
}

export interface InsertedSpan {
  id: string;
  start: Date;
  durationMs: number;
  app: string | null;
  idle: boolean;
  /** The plain title as the device sent it, when it sent one (for title-based categories). */
  title?: string;
}

/** Raw spans summed per person and day (org time zone), optionally per app: what rollups must equal. */
export type SpanTotalsRow = {
  user_id: string;
  day: string;
  app: string | null;
  idle: boolean;
  ms: number;
  spans: number;
};

/** One of a person's own spans as stored (title still sealed): their "see my data" and export. */
export interface UserSpanRow extends Record<string, unknown> {
  id: string;
  start: Date | string;
  duration_ms: number;
  app: string | null;
  title_enc: Uint8Array | null;
  idle: boolean;
  device_id: string;
}

export type SpanForRollup = {
  user_id: string;
  day: string;
  app: string | null;
  idle: boolean;
  duration_ms: number;
  title_enc: Uint8Array | null;
};

/**
 * Spans whose outbox row is still waiting: a rebuild or check leaves them out, in the same
 * statement (one snapshot), and the consumer adds them on top when it takes them.
 */
function notOwed(orgId: string) {
  // NOT IN over a subquery is a hashed subplan: built once, one probe per span (ids are never null).
  return sql`s.id not in (select unnest(o.span_ids) from span_inserts o where o.org_id = ${orgId})`;
}

/** One span owed to the rollups, read back from the spans table; null fields when the span is gone (erased, retention). */
export interface OwedSpanRow extends Record<string, unknown> {
  seq: number | string;
  org_id: string;
  user_id: string;
  start: Date | string | null;
  duration_ms: number | null;
  app: string | null;
  idle: boolean | null;
  title_enc: Uint8Array | null;
}

/** The spans of one person, or (no `userId`) of every person: a rebuild's reads of either. */
function whose(userId: string | undefined) {
  return userId === undefined ? sql`s.user_id is not null` : sql`s.user_id = ${userId}`;
}

/** Bounds of [fromDay, toDay] in the org's zone, written so partitions prune. */
function dayRange(fromDay: string, toDay: string, timeZone: string) {
  return sql`s.start >= (${fromDay}::date::timestamp at time zone ${timeZone})
    and s.start < ((${toDay}::date + 1)::timestamp at time zone ${timeZone})`;
}

/** A synthetic workload: who, on which device, with which app mix (an index into `mixes`), over which days. */
export interface GeneratedWorkload {
  orgId: string;
  timeZone: string;
  people: readonly { userId: string; deviceId: string; mix: number }[];
  mixes: readonly (readonly string[])[];
  from: Date;
  to: Date;
  spansPerDay: number;
}

export function createIngestionStore(database: Queryable) {
  return {
    /**
     * One statement for the whole batch: a JSON recordset insert with ON CONFLICT DO NOTHING,
     * returning only the rows that were new (one round trip, fixed SQL text).
     */
    async insertSpans(
      owner: { orgId: string; deviceId: string; userId: string | null },
      rows: SpanRow[],
      importGrantId: string | null = null,
    ): Promise<InsertedSpan[]> {
      if (rows.length === 0) return [];
      const recordset = JSON.stringify(
        rows.map((r) => ({ id: r.id, start: r.start, duration_ms: r.durationMs, app: r.app, title_enc: r.titleEnc, idle: r.idle })),
      );
      // Only ids come back: the rest is already in hand, and parsing 500 timestamps per batch
      // was a visible share of the server's CPU. A bound device's new spans are written to the
      // rollups' outbox in the same statement, so they reach the rollups even if this process dies.
      const outbox =
        owner.userId === null
          ? sql``
          : sql`, owed as (
              insert into span_inserts (org_id, user_id, span_ids, starts)
              select ${owner.orgId}::uuid, ${owner.userId}::uuid, array_agg(id), array_agg(start) from stored having count(*) > 0
            )`;
      const inserted = await database.rows<{ id: string }>(sql`
        with stored as (
          insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, title_enc, idle, import_grant_id)
          select u.id, u.start, ${owner.orgId}::uuid, ${owner.deviceId}::uuid, ${owner.userId}::uuid, u.duration_ms, u.app,
                 decode(u.title_enc, 'base64'), u.idle, ${importGrantId}::uuid
          from json_to_recordset(${recordset}::json)
            as u(id uuid, start timestamptz, duration_ms int, app text, title_enc text, idle boolean)
          on conflict do nothing
          returning id, start
        )${outbox}
        select id from stored`);
      if (inserted.length === 0) return [];
      const fresh = new Set(inserted.map((r) => r.id));
      return rows.filter((r) => fresh.has(r.id)).map((r) => ({ id: r.id, start: new Date(r.start), durationMs: r.durationMs, app: r.app, idle: r.idle }));
    },

    /** Which device holds each of these span ids (to tell a resend from a collision). */
    async ownersOf(ids: string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await database.rows<{ id: string; device_id: string }>(sql`select id, device_id from spans where id = any(${`{${ids.join(',')}}`}::uuid[])`);
      return new Map(rows.map((r) => [r.id, r.device_id]));
    },

    /** Per person, day, app and idle flag: the grouped form rollups are rebuilt from; one person's alone when `userId` is given. */
    async spanTotals(orgId: string, fromDay: string, toDay: string, timeZone: string, perApp: boolean, userId?: string): Promise<SpanTotalsRow[]> {
      const app = perApp ? sql`s.app` : sql`null::text`;
      const rows = await database.rows<SpanTotalsRow>(sql`
        select s.user_id, to_char((s.start at time zone ${timeZone})::date, 'YYYY-MM-DD') as day, ${app} as app, s.idle,
               sum(s.duration_ms)::float8 as ms, count(*)::int as spans
        from spans s
        where s.org_id = ${orgId} and ${whose(userId)} and ${dayRange(fromDay, toDay, timeZone)} and ${notOwed(orgId)}
        group by 1, 2, 3, 4`);
      return rows.map((r) => ({ ...r, ms: Number(r.ms), spans: Number(r.spans) }));
    },

    /** Every span of the range with its sealed title, for orgs whose categories look at titles; one person's alone when `userId` is given. */
    async spansForRollup(orgId: string, fromDay: string, toDay: string, timeZone: string, userId?: string): Promise<SpanForRollup[]> {
      return database.rows<SpanForRollup>(sql`
        select s.user_id, to_char((s.start at time zone ${timeZone})::date, 'YYYY-MM-DD') as day, s.app, s.idle, s.duration_ms, s.title_enc
        from spans s
        where s.org_id = ${orgId} and ${whose(userId)} and ${dayRange(fromDay, toDay, timeZone)} and ${notOwed(orgId)}`);
    },

    /**
     * Takes up to `limit` outbox rows no other worker holds (FOR UPDATE SKIP LOCKED: they stay
     * locked until the caller's transaction ends) with their spans. Call inside a transaction.
     * Two statements: the rows first, then their spans within the rows' first and last starts,
     * so the read is planned over those days' partitions alone (planned over all ~100 of them, it
     * took 7 ms of a consumer's transaction, more than the read).
     */
    async claimOwed(limit: number): Promise<OwedSpanRow[]> {
      const claimed = await database.rows<{ seq: number | string; first: Date | string; last: Date | string }>(sql`
        select seq, (select min(t) from unnest(starts) t) as first, (select max(t) from unnest(starts) t) as last
        from span_inserts order by seq limit ${limit} for update skip locked`);
      if (claimed.length === 0) return [];
      let first = Number.POSITIVE_INFINITY;
      let last = Number.NEGATIVE_INFINITY;
      for (const c of claimed) {
        first = Math.min(first, new Date(c.first).getTime());
        last = Math.max(last, new Date(c.last).getTime());
      }
      return database.rows<OwedSpanRow>(sql`
        select c.seq, c.org_id, c.user_id, s.start, s.duration_ms, s.app, s.idle, s.title_enc
        from span_inserts c
        cross join lateral unnest(c.span_ids, c.starts) as k(id, start)
        left join spans s on s.id = k.id and s.start = k.start and s.org_id = c.org_id
          and s.start >= ${new Date(first).toISOString()}::timestamptz and s.start <= ${new Date(last).toISOString()}::timestamptz
        where c.seq = any(${`{${claimed.map((c) => c.seq).join(',')}}`}::bigint[])
        order by c.seq`);
    },

    /** Removes outbox rows whose deltas the caller wrote in the same transaction. */
    async settleOwed(seqs: number[]): Promise<void> {
      if (seqs.length === 0) return;
      await database.rows(sql`delete from span_inserts where seq = any(${`{${seqs.join(',')}}`}::bigint[])`);
    },

    /** The orgs of the oldest outbox rows: their directories are loaded before a transaction takes the rows. */
    async owedOrgIds(limit: number): Promise<string[]> {
      const rows = await database.rows<{ org_id: string }>(sql`
        select distinct org_id from (select org_id from span_inserts order by seq limit ${limit}) o`);
      return rows.map((r) => r.org_id);
    },

    /** How many outbox rows (stored batches) the rollups still owe. */
    async owedCount(): Promise<number> {
      const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from span_inserts`);
      return Number(row?.n ?? 0);
    },

    /** One page of a person's spans, oldest first, after the (start, id) cursor, optionally within [from, to). */
    async spansOfUser(
      orgId: string,
      userId: string,
      after: { start: string; id: string } | undefined,
      limit: number,
      range?: { from: Date; to: Date },
    ): Promise<UserSpanRow[]> {
      const cursor = after ? sql`and (s.start, s.id) > (${after.start}::timestamptz, ${after.id}::uuid)` : sql``;
      const within = range ? sql`and s.start >= ${range.from.toISOString()}::timestamptz and s.start < ${range.to.toISOString()}::timestamptz` : sql``;
      return database.rows<UserSpanRow>(sql`
        select s.id, s.start, s.duration_ms, s.app, s.title_enc, s.idle, s.device_id
        from spans s
        where s.org_id = ${orgId} and s.user_id = ${userId} ${within} ${cursor}
        order by s.start, s.id
        limit ${limit}`);
    },

    /** Deletes every raw span of the person; returns how many and the time they covered. */
    async deleteSpansOfUser(orgId: string, userId: string): Promise<{ count: number; first: Date | null; last: Date | null }> {
      // The person's owed outbox rows go in the same statement: nothing queued can bring them back.
      const [row] = await database.rows<{ n: number | string; first: Date | string | null; last: Date | string | null }>(sql`
        with d as (delete from spans where org_id = ${orgId} and user_id = ${userId} returning start),
        o as (delete from span_inserts where org_id = ${orgId} and user_id = ${userId})
        select count(*)::int as n, min(start) as first, max(start) as last from d`);
      const toDate = (v: Date | string | null | undefined) => (v === null || v === undefined ? null : new Date(v));
      return { count: Number(row?.n ?? 0), first: toDate(row?.first), last: toDate(row?.last) };
    },

    /** Deletes the spans a withdrawn import grant brought in (within its period, by the person's index); how many and the time they covered. */
    async deleteImportedSpans(grant: {
      id: string;
      orgId: string;
      userId: string;
      from: Date;
      to: Date;
    }): Promise<{ count: number; first: Date | null; last: Date | null }> {
      const [row] = await database.rows<{ n: number | string; first: Date | string | null; last: Date | string | null }>(sql`
        with d as (
          delete from spans
          where org_id = ${grant.orgId} and user_id = ${grant.userId}
            and start >= ${grant.from.toISOString()}::timestamptz and start < ${grant.to.toISOString()}::timestamptz
            and import_grant_id = ${grant.id}::uuid
          returning start
        )
        select count(*)::int as n, min(start) as first, max(start) as last from d`);
      const toDate = (v: Date | string | null | undefined) => (v === null || v === undefined ? null : new Date(v));
      return { count: Number(row?.n ?? 0), first: toDate(row?.first), last: toDate(row?.last) };
    },

    /** Orgs that have any raw spans, by a skip scan over the (org, user, start) index. */
    async orgIdsWithSpans(): Promise<string[]> {
      const rows = await database.rows<{ org_id: string }>(sql`
        with recursive o as (
          (select org_id from spans order by org_id limit 1)
          union all
          select (select s.org_id from spans s where s.org_id > o.org_id order by s.org_id limit 1) from o where o.org_id is not null
        ) select org_id from o where org_id is not null`);
      return rows.map((r) => r.org_id);
    },

    /** Drops whole daily partitions that end on or before `before` (retention without row deletes). */
    async dropPartitionsBefore(before: Date): Promise<string[]> {
      const parts = await database.rows<{ name: string }>(sql`
        select c.relname as name from pg_inherits i
        join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
        where p.relname = 'spans' and c.relname ~ '^spans_[0-9]{8}$'`);
      const cutoff = before.toISOString().slice(0, 10).replaceAll('-', '');
      const dropped: string[] = [];
      for (const { name } of parts.sort((a, b) => a.name.localeCompare(b.name))) {
        // A partition named for day D holds [D, D+1): it may go when D+1 <= before, i.e. D < cutoff day.
        if (name.slice(6) >= cutoff) continue;
        await database.rows(sql.raw(`drop table if exists ${name}`));
        dropped.push(name);
      }
      // The default partition is never dropped; rows that fell into it go row by row.
      await database.rows(sql`delete from spans_default where start < ${before.toISOString()}::timestamptz`);
      return dropped;
    },

    /** Deletes one org's rows older than `before` (an org whose retention is shorter than the longest). */
    async deleteOrgSpansBefore(orgId: string, before: Date): Promise<number> {
      const rows = await database.rows<{ n: number }>(sql`
        with d as (delete from spans where org_id = ${orgId} and start < ${before.toISOString()}::timestamptz returning 1)
        select count(*)::int as n from d`);
      return Number(rows[0]?.n ?? 0);
    },

    /** Creates the daily partitions of [from, to) that do not exist yet. */
    /**
     * A synthetic workload for demos and benchmarks, in one statement: person x day x slot on
     * working days in the org's zone (start 7:30-10:00, about 9% of slots idle, a few people
     * working some Saturdays), apps drawn from each person's mix. Spans are new ids, so nothing
     * stored is touched.
     */
    async insertGeneratedSpans(w: GeneratedWorkload): Promise<void> {
      const people = JSON.stringify(w.people.map((p) => [p.userId, p.deviceId, p.mix]));
      const mixes = JSON.stringify(w.mixes);
      const slotMs = Math.floor((8.5 * 3_600_000) / w.spansPerDay);
      await database.rows(sql`
        with p as (
          select (e->>0)::uuid as user_id, (e->>1)::uuid as device_id, (e->>2)::int as kind, row_number() over () as n
          from json_array_elements(${people}::json) e
        ), m as (
          select ordinality - 1 as kind, array(select json_array_elements_text(value)) as apps
          from json_array_elements(${mixes}::json) with ordinality
        ), d as (
          select g::date as day from generate_series((${w.from.toISOString()}::timestamptz at time zone ${w.timeZone})::date,
                                                      (${w.to.toISOString()}::timestamptz at time zone ${w.timeZone})::date - 1, interval '1 day') g
        ), pd as (
          select p.*, d.day, ((d.day + time '07:30') + ((hashtext(p.user_id::text || d.day::text) & 255) * interval '35 seconds')) as local_start
          from p cross join d
          where extract(isodow from d.day) < 6 or (p.n % 23 = 0 and extract(isodow from d.day) = 6)
        )
        insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, idle)
        select gen_random_uuid(), (pd.local_start + k * ${slotMs} * interval '1 millisecond') at time zone ${w.timeZone},
               ${w.orgId}::uuid, pd.device_id, pd.user_id, ${slotMs} - 1000 - (random() * 20000)::int,
               m.apps[1 + floor(random() * array_length(m.apps, 1))::int], random() < 0.09
        from pd join m on m.kind = pd.kind cross join generate_series(0, ${w.spansPerDay - 1}) k`);
    },

    async ensureDailyPartitions(from: Date, to: Date): Promise<string[]> {
      const created: string[] = [];
      for (let day = startOfUtcDay(from); day < to; day = new Date(day.getTime() + 86_400_000)) {
        const next = new Date(day.getTime() + 86_400_000);
        const name = `spans_${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
        const exists = await database.rows<{ n: number }>(sql`select count(*)::int as n from pg_class where relname = ${name}`);
        if ((exists[0]?.n ?? 0) > 0) continue;
        await database.rows(
          sql.raw(`create table if not exists ${name} partition of spans for values from ('${day.toISOString()}') to ('${next.toISOString()}')`),
        );
        created.push(name);
      }
      return created;
    },
  };
}
export type IngestionStore = ReturnType<typeof createIngestionStore>;

function startOfUtcDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}
