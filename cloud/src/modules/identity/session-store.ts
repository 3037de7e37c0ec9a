import { and, desc, eq, lt, ne } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { sessions } from './tables';

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
    /** A person's sessions, newest first (the sessions list of the account page). */
    async listForUser(userId: string): Promise<SessionRow[]> {
      return db.select().from(sessions).where(eq(sessions.userId, userId)).orderBy(desc(sessions.createdAt));
    },
    /** Ends one of a person's sessions; false when it is not theirs or already gone. */
    async deleteOwn(userId: string, id: string): Promise<boolean> {
      const gone = await db
        .delete(sessions)
        .where(and(eq(sessions.userId, userId), eq(sessions.id, id)))
        .returning({ id: sessions.id });
      return gone.length === 1;
    },
    /** Every session of a person but `keep`. */
    async deleteOthers(userId: string, keep: string): Promise<number> {
      const gone = await db
        .delete(sessions)
        .where(and(eq(sessions.userId, userId), ne(sessions.id, keep)))
        .returning({ id: sessions.id });
      return gone.length;
    },
    async deleteExpired(now: Date): Promise<number> {
      const gone = await db.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.id });
      return gone.length;
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
