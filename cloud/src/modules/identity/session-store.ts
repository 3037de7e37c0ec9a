import { eq, lt } from 'drizzle-orm';
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
    async deleteExpired(now: Date): Promise<number> {
      const gone = await db.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.id });
      return gone.length;
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
