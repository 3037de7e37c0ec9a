import { and, eq } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { noticeAcknowledgments } from './tables';

export type AcknowledgmentRecord = typeof noticeAcknowledgments.$inferSelect;

/** The compliance module's own table: who acknowledged which version's employee notice. */
export function createAcknowledgmentStore(database: Database) {
  const { db } = database;
  return {
    async find(userId: string, policyVersion: number): Promise<AcknowledgmentRecord | undefined> {
      const [row] = await db
        .select()
        .from(noticeAcknowledgments)
        .where(and(eq(noticeAcknowledgments.userId, userId), eq(noticeAcknowledgments.policyVersion, policyVersion)));
      return row;
    },
    /** False when this person had acknowledged this version already (the first time stays). */
    async insertOnce(row: AcknowledgmentRecord): Promise<boolean> {
      const inserted = await db.insert(noticeAcknowledgments).values(row).onConflictDoNothing().returning();
      return inserted.length > 0;
    },
    async ofVersion(orgId: string, policyVersion: number): Promise<AcknowledgmentRecord[]> {
      return db
        .select()
        .from(noticeAcknowledgments)
        .where(and(eq(noticeAcknowledgments.orgId, orgId), eq(noticeAcknowledgments.policyVersion, policyVersion)));
    },
  };
}
