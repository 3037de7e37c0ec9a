import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { apiTokens } from './tables';

export type ApiTokenRow = typeof apiTokens.$inferSelect;

export function createApiTokenStore({ db }: Database) {
  return {
    async insert(row: ApiTokenRow): Promise<ApiTokenRow> {
      const [stored] = await db.insert(apiTokens).values(row).returning();
      if (!stored) throw new Error('api_tokens insert returned no row');
      return stored;
    },
    async findByHash(tokenHash: string): Promise<ApiTokenRow | undefined> {
      const [row] = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
      return row;
    },
    /** A person's tokens, newest first. */
    listForUser(userId: string): Promise<ApiTokenRow[]> {
      return db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(desc(apiTokens.createdAt));
    },
    /** Revokes a token not yet revoked, of `owner` (a user id) or of any user in `orgId`; the row, or undefined. */
    async revoke(id: string, by: { userId: string } | { orgId: string }, at: Date): Promise<ApiTokenRow | undefined> {
      const owner = 'userId' in by ? eq(apiTokens.userId, by.userId) : eq(apiTokens.orgId, by.orgId);
      const [row] = await db
        .update(apiTokens)
        .set({ revokedAt: at })
        .where(and(eq(apiTokens.id, id), owner, isNull(apiTokens.revokedAt)))
        .returning();
      return row;
    },
    async touch(id: string, at: Date): Promise<void> {
      await db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id));
    },
  };
}
export type ApiTokenStore = ReturnType<typeof createApiTokenStore>;
