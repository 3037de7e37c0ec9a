import { and, desc, eq, inArray, isNull, like, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { NO_EVENTS, type EventOutbox } from '../../platform/events';
import { notificationOutbox, notificationPreferences, webhookEndpoints, type Channel, type DisabledReason, type OutboxPayload } from './tables';

export type OutboxRow = typeof notificationOutbox.$inferSelect;
export type NewOutboxRow = Omit<typeof notificationOutbox.$inferInsert, 'status' | 'attempts' | 'lastError' | 'deliveredAt' | 'createdAt'>;
export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

interface ClaimedRaw extends Record<string, unknown> {
  id: string;
  org_id: string;
  event: string;
  channel: Channel;
  user_id: string | null;
  target: string;
  payload: OutboxPayload | string;
  attempts: number;
  max_attempts: number;
}

export interface ClaimedDelivery {
  id: string;
  orgId: string;
  event: string;
  channel: Channel;
  userId: string | null;
  target: string;
  payload: OutboxPayload;
  /** Counting this one. */
  attempt: number;
  maxAttempts: number;
}

export function createNotificationStore(database: Database, events: EventOutbox = NO_EVENTS) {
  const { db } = database;
  return {
    /** Queues deliveries; a row whose dedupe key was queued before is skipped. */
    async enqueue(rows: NewOutboxRow[]): Promise<number> {
      if (rows.length === 0) return 0;
      const inserted = await db.insert(notificationOutbox).values(rows).onConflictDoNothing().returning({ id: notificationOutbox.id });
      return inserted.length;
    },

    /**
     * Takes up to `limit` due rows for this worker in one short statement: SKIP LOCKED lets
     * concurrent workers take disjoint rows, and the lease (next_attempt_at pushed ahead)
     * keeps them off other workers' polls while this one delivers outside any transaction.
     */
    async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
      const rows = await database.rows<ClaimedRaw>(sql`
        update notification_outbox o
        set attempts = o.attempts + 1, next_attempt_at = now() + (${leaseMs}::int * interval '1 millisecond')
        from (
          select id from notification_outbox
          where status = 'pending' and next_attempt_at <= now()
          order by next_attempt_at
          limit ${limit}
          for update skip locked
        ) due
        where o.id = due.id
        returning o.id, o.org_id, o.event, o.channel, o.user_id, o.target, o.payload, o.attempts, o.max_attempts`);
      return rows.map((r) => ({
        id: r.id,
        orgId: r.org_id,
        event: r.event,
        channel: r.channel,
        userId: r.user_id,
        target: r.target,
        // postgres.js returns jsonb parsed; a driver handing back text is parsed here.
        payload: typeof r.payload === 'string' ? (JSON.parse(r.payload) as OutboxPayload) : r.payload,
        attempt: r.attempts,
        maxAttempts: r.max_attempts,
      }));
    },

    /** `forgetContent`: the message carried a one-time link, which has no business resting here once it left. */
    async markDelivered(id: string, at: Date, forgetContent = false): Promise<void> {
      const gone = { kind: 'email' as const, subject: '(removed after delivery)', text: '', html: '' };
      await events.atomically(database, async (tx) => {
        const [sent] = await tx.db
          .update(notificationOutbox)
          .set({ status: 'delivered', deliveredAt: at, lastError: null, ...(forgetContent ? { payload: gone } : {}) })
          .where(eq(notificationOutbox.id, id))
          .returning({
            orgId: notificationOutbox.orgId,
            event: notificationOutbox.event,
            channel: notificationOutbox.channel,
            userId: notificationOutbox.userId,
          });
        // The target (an address, a device, an endpoint) and the message stay here.
        if (sent) {
          await events.add(tx, {
            name: 'notification.sent',
            subject: id,
            time: at,
            data: { orgId: sent.orgId, notificationId: id, notice: sent.event, channel: sent.channel, userId: sent.userId },
          });
        }
      });
    },

    /** A failed attempt: due again at `retryAt`, or given up when there is none. */
    async markFailed(id: string, error: string, retryAt: Date | undefined): Promise<void> {
      await db
        .update(notificationOutbox)
        .set(retryAt ? { lastError: error, nextAttemptAt: retryAt } : { lastError: error, status: 'failed' })
        .where(eq(notificationOutbox.id, id));
    },

    async deliveries(orgId: string, limit: number): Promise<OutboxRow[]> {
      return db.select().from(notificationOutbox).where(eq(notificationOutbox.orgId, orgId)).orderBy(desc(notificationOutbox.createdAt)).limit(limit);
    },

    async find(id: string): Promise<OutboxRow | undefined> {
      const [row] = await db.select().from(notificationOutbox).where(eq(notificationOutbox.id, id));
      return row;
    },

    async preferences(userIds: string[]): Promise<{ userId: string; event: string; channel: Channel; enabled: boolean }[]> {
      if (userIds.length === 0) return [];
      return db
        .select({
          userId: notificationPreferences.userId,
          event: notificationPreferences.event,
          channel: notificationPreferences.channel,
          enabled: notificationPreferences.enabled,
        })
        .from(notificationPreferences)
        .where(inArray(notificationPreferences.userId, userIds));
    },

    async savePreferences(orgId: string, userId: string, prefs: { event: string; channel: Channel; enabled: boolean }[]): Promise<void> {
      if (prefs.length === 0) return;
      await db
        .insert(notificationPreferences)
        .values(prefs.map((p) => ({ ...p, userId, orgId, updatedAt: new Date() })))
        .onConflictDoUpdate({
          target: [notificationPreferences.userId, notificationPreferences.event, notificationPreferences.channel],
          set: { enabled: sql`excluded.enabled`, updatedAt: sql`excluded.updated_at` },
        });
    },

    async insertEndpoint(row: typeof webhookEndpoints.$inferInsert): Promise<void> {
      await db.insert(webhookEndpoints).values(row);
    },

    async activeEndpoints(orgId: string): Promise<WebhookEndpointRow[]> {
      return db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.orgId, orgId), isNull(webhookEndpoints.disabledAt)))
        .orderBy(webhookEndpoints.createdAt);
    },

    async findEndpoint(id: string): Promise<WebhookEndpointRow | undefined> {
      const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
      return row;
    },

    /** Replaces a secret only if it is still the one read (two instances upgrading at once write once). */
    async replaceEndpointSecret(id: string, was: string, sealed: string): Promise<boolean> {
      const rows = await db
        .update(webhookEndpoints)
        .set({ secret: sealed })
        .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.secret, was)))
        .returning({ id: webhookEndpoints.id });
      return rows.length === 1;
    },

    /** Sealed endpoint secrets counted by the key they are under (null: a "v1." value, the ring's first key). */
    async endpointSecretKeyCounts(): Promise<{ keyId: string | null; n: number }[]> {
      const rows = await database.rows<{ key_id: string | null; n: number }>(sql`
        select case when secret like 'v2.%' then substring(secret from 4 for 16) end as key_id, count(*)::int as n
          from webhook_endpoints where secret not like 'whsec%' group by 1`);
      return rows.map((r) => ({ keyId: r.key_id, n: Number(r.n) }));
    },

    /** Up to `limit` sealed endpoint secrets not sealed with `prefix`, in id order after `after`. */
    async endpointSecretsNotSealedWith(prefix: string, after: string | undefined, limit: number): Promise<{ id: string; sealed: string }[]> {
      const rows = await database.rows<{ id: string; secret: string }>(sql`
        select id, secret from webhook_endpoints
         where secret not like 'whsec%' and left(secret, ${prefix.length}) <> ${prefix}
           and (${after ?? null}::uuid is null or id > ${after ?? null}::uuid)
         order by id limit ${limit}`);
      return rows.map((r) => ({ id: r.id, sealed: r.secret }));
    },

    /** Endpoints whose secret was stored in clear, before secrets were sealed. */
    async endpointsWithClearSecrets(): Promise<Pick<WebhookEndpointRow, 'id' | 'secret'>[]> {
      return db.select({ id: webhookEndpoints.id, secret: webhookEndpoints.secret }).from(webhookEndpoints).where(like(webhookEndpoints.secret, 'whsec%'));
    },

    /** Endpoints the server disabled (410 Gone, or a delivery that failed its whole schedule), newest first; removed ones are not listed. */
    async disabledEndpoints(orgId: string): Promise<WebhookEndpointRow[]> {
      return db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.orgId, orgId), inArray(webhookEndpoints.disabledReason, ['gone', 'failing'])))
        .orderBy(desc(webhookEndpoints.disabledAt));
    },

    /** Takes an endpoint the server disabled back into service; one an admin removed stays removed. */
    async enableEndpoint(orgId: string, id: string): Promise<WebhookEndpointRow | undefined> {
      const [row] = await db
        .update(webhookEndpoints)
        .set({ disabledAt: null, disabledReason: null, disabledDetail: null })
        .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId), inArray(webhookEndpoints.disabledReason, ['gone', 'failing'])))
        .returning();
      return row;
    },

    /** Disables (never deletes: queued deliveries still name it) an org's endpoint, saying why. */
    async disableEndpoint(orgId: string, id: string, at: Date, reason: DisabledReason, detail?: string): Promise<boolean> {
      const rows = await db
        .update(webhookEndpoints)
        .set({ disabledAt: at, disabledReason: reason, disabledDetail: detail ?? null })
        .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId), isNull(webhookEndpoints.disabledAt)))
        .returning({ id: webhookEndpoints.id });
      return rows.length > 0;
    },
  };
}
export type NotificationStore = ReturnType<typeof createNotificationStore>;
