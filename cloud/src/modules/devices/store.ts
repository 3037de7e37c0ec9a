import { and, asc, count, desc, eq, gt, ilike, inArray, isNotNull, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { AgentStatus, Directive } from '@icarus/shared';
import type { Database } from '../../platform/db/client';
import { NO_EVENTS, type EventOutbox } from '../../platform/events';
import { deviceBindings, deviceDirectives, devices, enrollmentTokens, pairingCodes, usedAssertions } from './tables';

export type DeviceRow = typeof devices.$inferSelect;
export type EnrollmentTokenRow = typeof enrollmentTokens.$inferSelect;
export type BindingRow = typeof deviceBindings.$inferSelect;
export type BindingMethod = BindingRow['method'];

/** What IT looks for in the fleet: the health problems the summary counts, each a filter. */
export type FleetHealth = 'silent' | 'dropping' | 'failing' | 'outdated' | 'unbound';
export type FleetSort = 'enrolled' | 'name' | 'lastSync' | 'version' | 'platform';

export interface FleetQuery {
  /** Matches the device name, OS account or the start of the device id, or any device of `ownerIds`. */
  text?: string | undefined;
  ownerIds?: readonly string[] | undefined;
  state: 'active' | 'revoked' | 'all';
  health?: FleetHealth | undefined;
  platform?: string | undefined;
  /** A device is silent when its last sync is older than this (or it never synced). */
  silentBefore: Date;
  /** The newest agent version in the fleet: other versions (and none) are outdated. */
  newestVersion?: string | undefined;
  sort: FleetSort;
  descending: boolean;
  offset: number;
  limit: number;
}

const likeText = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

function fleetConditions(orgId: string, q: Omit<FleetQuery, 'sort' | 'descending' | 'offset' | 'limit'>): SQL[] {
  const where: SQL[] = [eq(devices.orgId, orgId)];
  if (q.state === 'active') where.push(isNull(devices.revokedAt));
  if (q.state === 'revoked') where.push(isNotNull(devices.revokedAt));
  if (q.platform) where.push(eq(devices.platform, q.platform));
  if (q.text) {
    const matches: SQL[] = [ilike(devices.name, likeText(q.text)), ilike(devices.osUser, likeText(q.text))];
    if (/^[0-9a-f-]{4,36}$/i.test(q.text)) matches.push(sql`${devices.id}::text like ${`${q.text.toLowerCase()}%`}`);
    if (q.ownerIds && q.ownerIds.length > 0) matches.push(inArray(devices.userId, [...q.ownerIds]));
    const any = or(...matches);
    if (any) where.push(any);
  }
  switch (q.health) {
    case 'silent': {
      const silent = or(isNull(devices.lastSeenAt), lt(devices.lastSeenAt, q.silentBefore));
      if (silent) where.push(silent);
      break;
    }
    case 'dropping':
      where.push(sql`coalesce((${devices.status}->>'droppedSpans')::int, 0) > 0`);
      break;
    case 'failing':
      where.push(sql`${devices.status}->'captureSources' @> '[{"ok": false}]'::jsonb`);
      break;
    case 'outdated':
      where.push(q.newestVersion ? sql`${devices.agentVersion} is distinct from ${q.newestVersion}` : sql`false`);
      break;
    case 'unbound':
      where.push(isNull(devices.userId));
      break;
  }
  return where;
}

const SORT_COLUMNS = {
  enrolled: devices.enrolledAt,
  name: devices.name,
  lastSync: devices.lastSeenAt,
  version: devices.agentVersion,
  platform: devices.platform,
} as const satisfies Record<FleetSort, unknown>;

export function createDeviceStore(database: Database, events: EventOutbox = NO_EVENTS) {
  const { db } = database;
  return {
    async insertEnrollmentToken(row: typeof enrollmentTokens.$inferInsert) {
      await db.insert(enrollmentTokens).values(row);
    },

    /** Takes one use of a live token atomically; undefined when expired, used up or revoked. */
    async consumeEnrollmentToken(tokenHash: string, now: Date): Promise<EnrollmentTokenRow | undefined> {
      const [row] = await db
        .update(enrollmentTokens)
        .set({ uses: sql`${enrollmentTokens.uses} + 1` })
        .where(
          and(
            eq(enrollmentTokens.tokenHash, tokenHash),
            isNull(enrollmentTokens.revokedAt),
            gt(enrollmentTokens.expiresAt, now),
            lt(enrollmentTokens.uses, enrollmentTokens.maxUses),
          ),
        )
        .returning();
      return row;
    },

    async findEnrollmentToken(tokenHash: string): Promise<EnrollmentTokenRow | undefined> {
      const [row] = await db.select().from(enrollmentTokens).where(eq(enrollmentTokens.tokenHash, tokenHash));
      return row;
    },

    async listEnrollmentTokens(orgId: string): Promise<EnrollmentTokenRow[]> {
      return db.select().from(enrollmentTokens).where(eq(enrollmentTokens.orgId, orgId)).orderBy(desc(enrollmentTokens.createdAt));
    },

    /** Revokes a live token of this org; false when unknown here or already revoked. */
    async revokeEnrollmentToken(id: string, orgId: string, at: Date): Promise<boolean> {
      const rows = await db
        .update(enrollmentTokens)
        .set({ revokedAt: at })
        .where(and(eq(enrollmentTokens.id, id), eq(enrollmentTokens.orgId, orgId), isNull(enrollmentTokens.revokedAt)))
        .returning({ id: enrollmentTokens.id });
      return rows.length === 1;
    },

    /** The device row and its `device.enrolled` event, in one transaction. */
    async insertDevice(row: typeof devices.$inferInsert) {
      await events.atomically(database, async (tx) => {
        await tx.db.insert(devices).values(row);
        await events.add(tx, {
          name: 'device.enrolled',
          subject: row.id,
          data: { orgId: row.orgId, deviceId: row.id, enrollmentTokenId: row.enrollmentTokenId, platform: row.platform },
        });
      });
    },

    /**
     * Ends the device's binding in force (if any) and, with `next`, starts a new one, in one
     * transaction with the device row, so the device never names a person its bindings do not.
     * False when the device is not an active device of the org.
     */
    async rebind(
      orgId: string,
      deviceId: string,
      at: Date,
      endedBy: string | null,
      next: { id: string; userId: string; method: BindingMethod; boundBy: string | null } | null,
    ): Promise<{ changed: boolean; previous: BindingRow | undefined }> {
      return db.transaction(async (tx) => {
        const [device] = await tx
          .select({ id: devices.id })
          .from(devices)
          .where(and(eq(devices.id, deviceId), eq(devices.orgId, orgId), isNull(devices.revokedAt)))
          .for('update');
        if (!device) return { changed: false, previous: undefined };
        const [previous] = await tx
          .update(deviceBindings)
          .set({ endedAt: at, endedBy })
          .where(and(eq(deviceBindings.deviceId, deviceId), isNull(deviceBindings.endedAt)))
          .returning();
        if (next) await tx.insert(deviceBindings).values({ ...next, orgId, deviceId, boundAt: at });
        await tx
          .update(devices)
          .set({ userId: next?.userId ?? null, bindingId: next?.id ?? null })
          .where(eq(devices.id, deviceId));
        return { changed: true, previous };
      });
    },

    async currentBinding(deviceId: string): Promise<BindingRow | undefined> {
      const [row] = await db
        .select()
        .from(deviceBindings)
        .where(and(eq(deviceBindings.deviceId, deviceId), isNull(deviceBindings.endedAt)));
      return row;
    },

    /** The binding in force on each device of an org that has one. */
    async currentBindings(orgId: string): Promise<Pick<BindingRow, 'id' | 'deviceId' | 'userId'>[]> {
      return db
        .select({ id: deviceBindings.id, deviceId: deviceBindings.deviceId, userId: deviceBindings.userId })
        .from(deviceBindings)
        .where(and(eq(deviceBindings.orgId, orgId), isNull(deviceBindings.endedAt)));
    },

    /** The ids of the bindings in force in an org, as one array (a row per device is not needed to filter by them). */
    async currentBindingIds(orgId: string): Promise<string[]> {
      const [row] = await database.rows<{ ids: string[] | null }>(
        sql`select array_agg(id) as ids from device_bindings where org_id = ${orgId} and ended_at is null`,
      );
      return row?.ids ?? [];
    },

    async insertPairingCode(row: typeof pairingCodes.$inferInsert) {
      await db.insert(pairingCodes).values(row);
    },

    /** Takes a live code once, atomically: a second use, or one after expiry, finds nothing. */
    async consumePairingCode(orgId: string, codeHash: string, deviceId: string, at: Date): Promise<{ userId: string } | undefined> {
      const [row] = await db
        .update(pairingCodes)
        .set({ usedAt: at, usedByDevice: deviceId })
        .where(and(eq(pairingCodes.orgId, orgId), eq(pairingCodes.codeHash, codeHash), isNull(pairingCodes.usedAt), gt(pairingCodes.expiresAt, at)))
        .returning({ userId: pairingCodes.userId });
      return row;
    },

    async findPairingCode(orgId: string, codeHash: string) {
      const [row] = await db
        .select()
        .from(pairingCodes)
        .where(and(eq(pairingCodes.orgId, orgId), eq(pairingCodes.codeHash, codeHash)));
      return row;
    },

    /** A person's unused codes die when they make a new one: one live code per person. */
    async retirePairingCodes(userId: string, at: Date) {
      await db
        .update(pairingCodes)
        .set({ expiresAt: at })
        .where(and(eq(pairingCodes.userId, userId), isNull(pairingCodes.usedAt), gt(pairingCodes.expiresAt, at)));
    },

    async findDevice(id: string): Promise<DeviceRow | undefined> {
      const [row] = await db.select().from(devices).where(eq(devices.id, id));
      return row;
    },

    async listDevices(orgId: string): Promise<DeviceRow[]> {
      return db.select().from(devices).where(eq(devices.orgId, orgId)).orderBy(devices.enrolledAt);
    },

    /** The active devices bound to a person now. */
    async devicesOfUser(orgId: string, userId: string): Promise<DeviceRow[]> {
      return db
        .select()
        .from(devices)
        .where(and(eq(devices.orgId, orgId), eq(devices.userId, userId), isNull(devices.revokedAt)))
        .orderBy(devices.enrolledAt);
    },

    /** One page of the fleet, filtered and sorted in the database, with the number of matches. */
    async searchDevices(orgId: string, q: FleetQuery, knownTotal?: number): Promise<{ rows: DeviceRow[]; total: number }> {
      const where = and(...fleetConditions(orgId, q));
      const column = SORT_COLUMNS[q.sort];
      // Never-synced devices and devices with no version sort last either way; the id breaks ties so
      // pages never overlap. Not-null columns sort plainly, so the (org, enrolled, id) index serves them.
      const nullable = q.sort === 'lastSync' || q.sort === 'version';
      const order = nullable ? sql`${column} ${q.descending ? sql`desc` : sql`asc`} nulls last` : q.descending ? desc(column) : asc(column);
      const [rows, total] = await Promise.all([
        db
          .select()
          .from(devices)
          .where(where)
          .orderBy(order, q.descending ? desc(devices.id) : asc(devices.id))
          .limit(q.limit)
          .offset(q.offset),
        knownTotal ??
          db
            .select({ n: count() })
            .from(devices)
            .where(where)
            .then(([counted]) => counted?.n ?? 0),
      ]);
      return { rows, total };
    },

    /**
     * Counts for the fleet's health summary in one pass over the org's devices, per agent version
     * and platform (the summary adds them up): active, revoked, silent, dropping, failing, unbound.
     */
    async fleetHealth(orgId: string, silentBefore: Date) {
      const active = sql`${devices.revokedAt} is null`;
      // A raw fragment's parameter is not typed by its column: postgres.js wants the instant as text.
      const before = sql`${silentBefore.toISOString()}::timestamptz`;
      const counted = (condition: SQL) => sql<number>`count(*) filter (where ${condition})`.mapWith(Number);
      return db
        .select({
          version: devices.agentVersion,
          platform: devices.platform,
          active: counted(active),
          revoked: counted(sql`${devices.revokedAt} is not null`),
          silent: counted(sql`${active} and (${devices.lastSeenAt} is null or ${devices.lastSeenAt} < ${before})`),
          dropping: counted(sql`${active} and coalesce((${devices.status}->>'droppedSpans')::int, 0) > 0`),
          failing: counted(sql`${active} and ${devices.status}->'captureSources' @> '[{"ok": false}]'::jsonb`),
          unbound: counted(sql`${active} and ${devices.userId} is null`),
        })
        .from(devices)
        .where(eq(devices.orgId, orgId))
        .groupBy(devices.agentVersion, devices.platform);
    },

    /** Records an assertion id; false when it was already used (a replay). */
    async rememberAssertion(jti: string, deviceId: string, expiresAt: Date): Promise<boolean> {
      const inserted = await db.insert(usedAssertions).values({ jti, deviceId, expiresAt }).onConflictDoNothing().returning({ jti: usedAssertions.jti });
      return inserted.length === 1;
    },

    async forgetExpiredAssertions(now: Date) {
      await db.delete(usedAssertions).where(lte(usedAssertions.expiresAt, now));
    },

    async recordSync(id: string, at: Date, status: AgentStatus | undefined) {
      await db
        .update(devices)
        .set({ lastSeenAt: at, ...(status ? { status, agentVersion: status.agentVersion } : {}) })
        .where(eq(devices.id, id));
    },

    async revokeDevice(id: string, orgId: string, at: Date): Promise<boolean> {
      return events.atomically(database, async (tx) => {
        const rows = await tx.db
          .update(devices)
          .set({ revokedAt: at })
          .where(and(eq(devices.id, id), eq(devices.orgId, orgId), isNull(devices.revokedAt)))
          .returning({ id: devices.id });
        if (rows.length === 1) await events.add(tx, { name: 'device.revoked', subject: id, time: at, data: { orgId, deviceId: id } });
        return rows.length === 1;
      });
    },

    async queueDirective(id: string, deviceId: string, directive: Directive) {
      await db.insert(deviceDirectives).values({ id, deviceId, directive });
    },

    async hasPendingDirectives(deviceId: string): Promise<boolean> {
      const pending = await db
        .select({ id: deviceDirectives.id })
        .from(deviceDirectives)
        .where(and(eq(deviceDirectives.deviceId, deviceId), isNull(deviceDirectives.deliveredAt)))
        .limit(1);
      return pending.length > 0;
    },

    /** Pending directives for a device, marked delivered in the same statement. */
    async takeDirectives(deviceId: string, at: Date): Promise<unknown[]> {
      const rows = await db
        .update(deviceDirectives)
        .set({ deliveredAt: at })
        .where(and(eq(deviceDirectives.deviceId, deviceId), isNull(deviceDirectives.deliveredAt)))
        .returning({ directive: deviceDirectives.directive, createdAt: deviceDirectives.createdAt });
      return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((r) => r.directive);
    },
  };
}
export type DeviceStore = ReturnType<typeof createDeviceStore>;
