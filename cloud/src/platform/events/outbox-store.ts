import { and, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { eventOutbox } from './tables';

export interface ClaimedEvent {
  orgId: string;
  id: string;
  name: string;
  subject: string;
  time: Date;
  data: Record<string, unknown>;
  attempts: number;
}

/** The relay's side of the outbox. */
export function createEventOutboxStore(database: Database) {
  return {
    /**
     * Takes up to `limit` due rows, oldest first, in one statement: SKIP LOCKED gives concurrent
     * relays disjoint rows, and the lease keeps them off other relays' polls while this one
     * publishes outside any transaction. A relay that dies leaves its rows due when the lease ends.
     */
    async claim(limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
      const rows = await database.rows<{
        org_id: string;
        id: string;
        name: string;
        subject: string;
        time: Date | string;
        data: Record<string, unknown> | string;
        attempts: number;
      }>(sql`
        update event_outbox o
        set attempts = o.attempts + 1, next_attempt_at = now() + (${leaseMs}::int * interval '1 millisecond')
        from (
          select org_id, id from event_outbox
          where sent_at is null and next_attempt_at <= now()
          order by next_attempt_at, id
          limit ${limit}
          for update skip locked
        ) due
        where o.org_id = due.org_id and o.id = due.id
        returning o.org_id, o.id, o.name, o.subject, o.time, o.data, o.attempts`);
      return rows
        .map((r) => ({
          orgId: r.org_id,
          id: r.id,
          name: r.name,
          subject: r.subject,
          time: new Date(r.time),
          // postgres.js returns jsonb parsed; a driver handing back text is parsed here.
          data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data,
          attempts: r.attempts,
        }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    async markSent(events: { orgId: string; id: string }[]): Promise<void> {
      if (events.length === 0) return;
      await database.db
        .update(eventOutbox)
        .set({ sentAt: sql`now()`, lastError: null })
        .where(keys(events));
    },

    /** A failed publish: due again at `retryAt` (the row stays until it is sent; nothing is given up). */
    async markFailed(events: { orgId: string; id: string }[], error: string, retryAt: Date): Promise<void> {
      if (events.length === 0) return;
      await database.db
        .update(eventOutbox)
        .set({ lastError: error.slice(0, 500), nextAttemptAt: retryAt })
        .where(keys(events));
    },

    /** Rows not yet published (the metric and tests read it). */
    async depth(): Promise<number> {
      const [row] = await database.rows<{ n: number | string }>(sql`select count(*)::int as n from event_outbox where sent_at is null`);
      return Number(row?.n ?? 0);
    },

    /** Published rows older than `before` are history. */
    async forgetSent(before: Date): Promise<number> {
      const rows = await database.rows<{ id: string }>(sql`delete from event_outbox where sent_at < ${before.toISOString()}::timestamptz returning id`);
      return rows.length;
    },
  };
}
export type EventOutboxStore = ReturnType<typeof createEventOutboxStore>;

/** Both key columns, so the primary key's index finds the rows. */
function keys(events: { orgId: string; id: string }[]) {
  return and(
    inArray(eventOutbox.orgId, [...new Set(events.map((e) => e.orgId))]),
    inArray(
      eventOutbox.id,
      events.map((e) => e.id),
    ),
  );
}
