import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';

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
}

export function createIngestionStore(database: Database) {
  return {
    /**
     * One statement for the whole batch: a JSON recordset insert with ON CONFLICT DO NOTHING,
     * returning only the rows that were new (one round trip, fixed SQL text).
     */
    async insertSpans(owner: { orgId: string; deviceId: string; userId: string | null }, rows: SpanRow[]): Promise<InsertedSpan[]> {
      if (rows.length === 0) return [];
      const recordset = JSON.stringify(
        rows.map((r) => ({ id: r.id, start: r.start, duration_ms: r.durationMs, app: r.app, title_enc: r.titleEnc, idle: r.idle })),
      );
      const inserted = await database.rows<{ id: string; start: Date | string; duration_ms: number; app: string | null; idle: boolean }>(sql`
        insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, title_enc, idle)
        select u.id, u.start, ${owner.orgId}::uuid, ${owner.deviceId}::uuid, ${owner.userId}::uuid, u.duration_ms, u.app,
               decode(u.title_enc, 'base64'), u.idle
        from json_to_recordset(${recordset}::json)
          as u(id uuid, start timestamptz, duration_ms int, app text, title_enc text, idle boolean)
        on conflict do nothing
        returning id, start, duration_ms, app, idle`);
      return inserted.map((r) => ({ id: r.id, start: new Date(r.start), durationMs: r.duration_ms, app: r.app, idle: r.idle }));
    },

    /** Which device holds each of these span ids (to tell a resend from a collision). */
    async ownersOf(ids: string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await database.rows<{ id: string; device_id: string }>(
        sql`select id, device_id from spans where id = any(${`{${ids.join(',')}}`}::uuid[])`,
      );
      return new Map(rows.map((r) => [r.id, r.device_id]));
    },

    /** Creates the daily partitions of [from, to) that do not exist yet. */
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
