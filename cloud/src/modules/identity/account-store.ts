import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { accountTokens, recoveryCodes } from './tables';

export type AccountTokenRow = typeof accountTokens.$inferSelect;
export type AccountTokenPurpose = AccountTokenRow['purpose'];

/** The one-time links and recovery codes of the account lifecycle. */
export function createAccountStore({ db }: Database) {
  return {
    /** A new link; every earlier open link of the same person and purpose is retired in the same transaction. */
    async issue(row: Omit<AccountTokenRow, 'usedAt'>): Promise<void> {
      await db.transaction(async (tx) => {
        // One issue per person and purpose at a time: two at once would each retire only what came before both.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`account-token:${row.userId}:${row.purpose}`}, 0))`);
        await tx
          .update(accountTokens)
          .set({ usedAt: row.createdAt })
          .where(and(eq(accountTokens.userId, row.userId), eq(accountTokens.purpose, row.purpose), isNull(accountTokens.usedAt)));
        await tx.insert(accountTokens).values({ ...row, usedAt: null });
      });
    },
    async find(id: string): Promise<AccountTokenRow | undefined> {
      const [row] = await db.select().from(accountTokens).where(eq(accountTokens.id, id));
      return row;
    },
    /** Marks the link used if it still is open; false when another request used it first. */
    async spend(id: string, at: Date): Promise<boolean> {
      const spent = await db
        .update(accountTokens)
        .set({ usedAt: at })
        .where(and(eq(accountTokens.id, id), isNull(accountTokens.usedAt)))
        .returning({ id: accountTokens.id });
      return spent.length === 1;
    },
    /** People of these ids with an open invitation (not used, not expired). */
    async openInvitations(userIds: readonly string[], now: Date): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const rows = await db
        .select({ userId: accountTokens.userId, expiresAt: accountTokens.expiresAt })
        .from(accountTokens)
        .where(and(eq(accountTokens.purpose, 'invitation'), isNull(accountTokens.usedAt)));
      const wanted = new Set(userIds);
      return new Set(rows.filter((r) => wanted.has(r.userId) && r.expiresAt > now).map((r) => r.userId));
    },
    /** Drops links that expired or were used a day ago: nothing can open them any more. */
    async purge(before: Date): Promise<number> {
      const gone = await db
        .delete(accountTokens)
        .where(or(lt(accountTokens.expiresAt, before), lt(accountTokens.usedAt, before)))
        .returning({ id: accountTokens.id });
      return gone.length;
    },

    /** Replaces every recovery code of a person with these. */
    async replaceRecoveryCodes(userId: string, codes: { lookup: string; hash: string }[], at: Date): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
        if (codes.length > 0) await tx.insert(recoveryCodes).values(codes.map((c) => ({ ...c, userId, createdAt: at, usedAt: null })));
      });
    },
    async findRecoveryCode(userId: string, lookup: string) {
      const [row] = await db
        .select()
        .from(recoveryCodes)
        .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.lookup, lookup)));
      return row;
    },
    /** Marks one code used if it is still unused; false when it was used already (two requests at once). */
    async spendRecoveryCode(userId: string, lookup: string, at: Date): Promise<boolean> {
      const spent = await db
        .update(recoveryCodes)
        .set({ usedAt: at })
        .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.lookup, lookup), isNull(recoveryCodes.usedAt)))
        .returning({ lookup: recoveryCodes.lookup });
      return spent.length === 1;
    },
    async recoveryCodesLeft(userId: string): Promise<number> {
      const rows = await db
        .select({ lookup: recoveryCodes.lookup })
        .from(recoveryCodes)
        .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)))
        .orderBy(asc(recoveryCodes.lookup));
      return rows.length;
    },
  };
}
export type AccountStore = ReturnType<typeof createAccountStore>;
