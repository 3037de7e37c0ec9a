import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { sessions, signInThrottle } from './tables';

export type SessionRow = typeof sessions.$inferSelect;

export function createSessionStore({ db }: Database) {
  return {
    async insert(row: SessionRow) {
      await db.insert(sessions).values(row);
    },
    async find(id: string): Promise<SessionRow | undefined> {
      const [row] = await db.select().from(sessions).where(eq(sessions.id, id));
      return row;
    },
    async update(id: string, changes: Partial<Omit<SessionRow, 'id' | 'userId' | 'orgId'>>) {
      await db.update(sessions).set(changes).where(eq(sessions.id, id));
    },
    async delete(id: string) {
      await db.delete(sessions).where(eq(sessions.id, id));
    },
    async deleteForUser(userId: string): Promise<number> {
      const gone = await db.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id });
      return gone.length;
    },
    async deleteExpired(now: Date): Promise<number> {
      const gone = await db.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.id });
      return gone.length;
    },

    async lockedUntil(email: string): Promise<Date | null> {
      const [row] = await db.select({ lockedUntil: signInThrottle.lockedUntil }).from(signInThrottle).where(eq(signInThrottle.email, email));
      return row?.lockedUntil ?? null;
    },
    /**
     * Counts one failure in the current window (a window older than `windowMs` starts over)
     * and locks the account for `lockMs` when the count reaches `max`. One statement, so
     * concurrent guesses cannot slip past the count.
     */
    async recordFailure(email: string, now: Date, rule: { windowMs: number; max: number; lockMs: number }): Promise<Date | null> {
      const windowStart = new Date(now.getTime() - rule.windowMs);
      const lockUntil = new Date(now.getTime() + rule.lockMs);
      const stale = sql`${signInThrottle.windowStartedAt} < ${windowStart.toISOString()}::timestamptz`;
      const failures = sql`case when ${stale} then 1 else ${signInThrottle.failures} + 1 end`;
      const [row] = await db
        .insert(signInThrottle)
        .values({ email, failures: 1, windowStartedAt: now, lockedUntil: rule.max <= 1 ? lockUntil : null })
        .onConflictDoUpdate({
          target: signInThrottle.email,
          set: {
            failures,
            windowStartedAt: sql`case when ${stale} then ${now.toISOString()}::timestamptz else ${signInThrottle.windowStartedAt} end`,
            lockedUntil: sql`case when ${failures} >= ${rule.max} then ${lockUntil.toISOString()}::timestamptz else ${signInThrottle.lockedUntil} end`,
          },
        })
        .returning({ lockedUntil: signInThrottle.lockedUntil });
      return row?.lockedUntil && row.lockedUntil > now ? row.lockedUntil : null;
    },
    /** Forgets failure counts whose window and lock are both over. */
    async deleteStaleFailures(windowStartedBefore: Date, now: Date): Promise<number> {
      const gone = await db
        .delete(signInThrottle)
        .where(and(lt(signInThrottle.windowStartedAt, windowStartedBefore), or(isNull(signInThrottle.lockedUntil), lt(signInThrottle.lockedUntil, now))))
        .returning({ email: signInThrottle.email });
      return gone.length;
    },
    async clearFailures(email: string) {
      await db.delete(signInThrottle).where(eq(signInThrottle.email, email));
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
