import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { provisioningSettings, scimConnections, scimGroups, scimUsers } from './tables';

export type ConnectionRow = typeof scimConnections.$inferSelect;
export type ScimUserRow = typeof scimUsers.$inferSelect;
export type ScimGroupRow = typeof scimGroups.$inferSelect;

export function createProvisioningStore({ db }: Database) {
  return {
    async insertConnection(row: typeof scimConnections.$inferInsert) {
      await db.insert(scimConnections).values(row);
    },
    async connections(orgId: string): Promise<ConnectionRow[]> {
      return db.select().from(scimConnections).where(eq(scimConnections.orgId, orgId)).orderBy(desc(scimConnections.createdAt));
    },
    async connectionByHash(tokenHash: string): Promise<ConnectionRow | undefined> {
      const [row] = await db.select().from(scimConnections).where(eq(scimConnections.tokenHash, tokenHash));
      return row;
    },
    async revokeConnection(orgId: string, id: string, at: Date): Promise<boolean> {
      const rows = await db
        .update(scimConnections)
        .set({ revokedAt: at })
        .where(and(eq(scimConnections.orgId, orgId), eq(scimConnections.id, id), isNull(scimConnections.revokedAt)))
        .returning({ id: scimConnections.id });
      return rows.length === 1;
    },
    async touchConnection(id: string, at: Date) {
      await db.update(scimConnections).set({ lastUsedAt: at }).where(eq(scimConnections.id, id));
    },

    async scimUsers(orgId: string): Promise<ScimUserRow[]> {
      return db.select().from(scimUsers).where(eq(scimUsers.orgId, orgId));
    },
    /** People the provider may mean by this userName or externalId (an index each), for `attr eq "…"` filters. */
    async scimUsersNamed(orgId: string, by: { userName?: string; externalId?: string }): Promise<ScimUserRow[]> {
      const match = by.userName !== undefined ? sql`lower(${scimUsers.userName}) = lower(${by.userName})` : eq(scimUsers.externalId, by.externalId ?? '');
      return db
        .select()
        .from(scimUsers)
        .where(and(eq(scimUsers.orgId, orgId), match));
    },
    async scimUser(orgId: string, userId: string): Promise<ScimUserRow | undefined> {
      const [row] = await db
        .select()
        .from(scimUsers)
        .where(and(eq(scimUsers.orgId, orgId), eq(scimUsers.userId, userId)));
      return row;
    },
    async upsertScimUser(row: typeof scimUsers.$inferInsert) {
      await db
        .insert(scimUsers)
        .values(row)
        .onConflictDoUpdate({
          target: scimUsers.userId,
          set: {
            userName: row.userName,
            externalId: row.externalId ?? null,
            connectionId: row.connectionId,
            updatedAt: row.updatedAt,
            deletedAt: row.deletedAt ?? null,
          },
        });
    },
    async scimGroups(orgId: string): Promise<ScimGroupRow[]> {
      return db.select().from(scimGroups).where(eq(scimGroups.orgId, orgId));
    },
    async scimGroup(orgId: string, teamId: string): Promise<ScimGroupRow | undefined> {
      const [row] = await db
        .select()
        .from(scimGroups)
        .where(and(eq(scimGroups.orgId, orgId), eq(scimGroups.teamId, teamId)));
      return row;
    },
    async upsertScimGroup(row: typeof scimGroups.$inferInsert) {
      await db
        .insert(scimGroups)
        .values(row)
        .onConflictDoUpdate({
          target: scimGroups.teamId,
          set: { externalId: row.externalId ?? null, connectionId: row.connectionId, updatedAt: row.updatedAt, deletedAt: row.deletedAt ?? null },
        });
    },

    async deprovisionedData(orgId: string): Promise<'keep' | 'erase'> {
      const [row] = await db.select().from(provisioningSettings).where(eq(provisioningSettings.orgId, orgId));
      return row?.deprovisionedData ?? 'keep';
    },
    async setDeprovisionedData(orgId: string, value: 'keep' | 'erase', by: string, at: Date) {
      await db
        .insert(provisioningSettings)
        .values({ orgId, deprovisionedData: value, updatedBy: by, updatedAt: at })
        .onConflictDoUpdate({ target: provisioningSettings.orgId, set: { deprovisionedData: value, updatedBy: by, updatedAt: at } });
    },
  };
}
export type ProvisioningStore = ReturnType<typeof createProvisioningStore>;
