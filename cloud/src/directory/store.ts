import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { orgs, teams, users } from './tables';

export type OrgRow = typeof orgs.$inferSelect;
export type UserRow = typeof users.$inferSelect;

export function createDirectoryStore({ db }: Database) {
  return {
    async insertOrg(row: typeof orgs.$inferInsert) {
      await db.insert(orgs).values(row);
    },
    async insertTeam(row: typeof teams.$inferInsert) {
      await db.insert(teams).values(row);
    },
    async insertUser(row: typeof users.$inferInsert) {
      await db.insert(users).values(row);
    },
    async findOrg(id: string): Promise<OrgRow | undefined> {
      const [row] = await db.select().from(orgs).where(eq(orgs.id, id));
      return row;
    },
    async firstOrg(): Promise<OrgRow | undefined> {
      const [row] = await db.select().from(orgs).orderBy(orgs.createdAt).limit(1);
      return row;
    },
    async findUser(id: string): Promise<UserRow | undefined> {
      const [row] = await db.select().from(users).where(eq(users.id, id));
      return row;
    },
    async findUserByEmail(email: string): Promise<UserRow | undefined> {
      const [row] = await db
        .select()
        .from(users)
        .where(sql`lower(${users.email}) = lower(${email})`);
      return row;
    },
    async findUserByOsUser(orgId: string, osUser: string): Promise<UserRow | undefined> {
      const [row] = await db
        .select()
        .from(users)
        .where(and(eq(users.orgId, orgId), sql`lower(${users.osUser}) = lower(${osUser})`));
      return row;
    },
  };
}
export type DirectoryStore = ReturnType<typeof createDirectoryStore>;
