import { and, desc, eq, gt, isNull, lt, lte, sql } from 'drizzle-orm';
import type { AgentStatus, Directive } from '@icarus/shared';
import type { Database } from '../../platform/db/client';
import { deviceBindings, deviceDirectives, devices, enrollmentTokens, pairingCodes, usedAssertions } from './tables';

export type DeviceRow = typeof devices.$inferSelect;
export type EnrollmentTokenRow = typeof enrollmentTokens.$inferSelect;
export type BindingRow = typeof deviceBindings.$inferSelect;
export type BindingMethod = BindingRow['method'];

export function createDeviceStore({ db }: Database) {
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

    async insertDevice(row: typeof devices.$inferInsert) {
      await db.insert(devices).values(row);
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
      const rows = await db
        .update(devices)
        .set({ revokedAt: at })
        .where(and(eq(devices.id, id), eq(devices.orgId, orgId), isNull(devices.revokedAt)))
        .returning({ id: devices.id });
      return rows.length === 1;
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
