import { and, asc, desc, eq, gte, isNull } from 'drizzle-orm';
import type { Database } from '../db/client';
import { consentRecords, policies } from './tables';

export type PolicyRow = typeof policies.$inferSelect;
export type ConsentRow = typeof consentRecords.$inferSelect;

export function createConsentStore({ db }: Database) {
  return {
    async insertPolicy(row: typeof policies.$inferInsert) {
      await db.insert(policies).values(row);
    },

    async currentPolicy(orgId: string): Promise<PolicyRow | undefined> {
      const [row] = await db
        .select()
        .from(policies)
        .where(and(eq(policies.orgId, orgId), eq(policies.state, 'published')))
        .orderBy(desc(policies.version))
        .limit(1);
      return row;
    },

    async policy(orgId: string, version: number): Promise<PolicyRow | undefined> {
      const [row] = await db
        .select()
        .from(policies)
        .where(and(eq(policies.orgId, orgId), eq(policies.version, version)));
      return row;
    },

    /** Appends a decision and closes the one it replaces, in one transaction. */
    async appendConsent(row: typeof consentRecords.$inferInsert) {
      await db.transaction(async (tx) => {
        await tx
          .update(consentRecords)
          .set({ supersededAt: row.effectiveAt })
          .where(and(eq(consentRecords.deviceId, row.deviceId), isNull(consentRecords.supersededAt)));
        await tx.insert(consentRecords).values(row);
      });
    },

    async latestConsent(deviceId: string): Promise<ConsentRow | undefined> {
      const [row] = await db
        .select()
        .from(consentRecords)
        .where(and(eq(consentRecords.deviceId, deviceId), isNull(consentRecords.supersededAt)))
        .limit(1);
      return row;
    },

    /** Every device's decision in force (not superseded) in an org: consent coverage reads this. */
    async currentConsents(orgId: string): Promise<ConsentRow[]> {
      return db
        .select()
        .from(consentRecords)
        .where(and(eq(consentRecords.orgId, orgId), isNull(consentRecords.supersededAt)))
        .orderBy(asc(consentRecords.effectiveAt));
    },

    /** Withdrawals made in an org since a time, newest first. */
    async withdrawalsSince(orgId: string, since: Date): Promise<ConsentRow[]> {
      return db
        .select()
        .from(consentRecords)
        .where(and(eq(consentRecords.orgId, orgId), eq(consentRecords.decision, 'withdrawn'), gte(consentRecords.effectiveAt, since)))
        .orderBy(desc(consentRecords.effectiveAt));
    },

    /** The device's decisions in time order: what was granted from when. */
    async timeline(deviceId: string): Promise<Pick<ConsentRow, 'effectiveAt' | 'granted' | 'policyVersion'>[]> {
      return db
        .select({ effectiveAt: consentRecords.effectiveAt, granted: consentRecords.granted, policyVersion: consentRecords.policyVersion })
        .from(consentRecords)
        .where(eq(consentRecords.deviceId, deviceId))
        .orderBy(asc(consentRecords.effectiveAt));
    },
  };
}
export type ConsentStore = ReturnType<typeof createConsentStore>;
