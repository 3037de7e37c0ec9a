import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { membershipHistory, recordMemberships, slices } from './membership-store';
import { orgs, teamManagers, teams, users } from './tables';

export type OrgRow = typeof orgs.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;

/** One import, already validated and resolved: applied in one transaction or not at all. */
export interface DirectoryImportPlan {
  orgId: string;
  newTeams: { id: string; name: string }[];
  newUsers: (typeof users.$inferInsert)[];
  updatedUsers: { id: string; name: string; osUser: string | null; teamId: string | null; role: UserRow['role']; managerId: string | null }[];
  teamManagers: { teamId: string; userId: string }[];
}

export function createDirectoryStore(database: Database, now: () => Date = () => new Date()) {
  const { db } = database;
  return {
    async insertOrg(row: typeof orgs.$inferInsert) {
      await db.insert(orgs).values(row);
    },
    async insertTeam(row: typeof teams.$inferInsert) {
      await db.insert(teams).values(row);
    },
    /** A new person and the start of their membership history, together. */
    async insertUser(row: typeof users.$inferInsert & { id: string }) {
      await db.transaction(async (tx) => {
        await tx.insert(users).values(row);
        await recordMemberships(tx, row.orgId, [{ userId: row.id, teamId: row.teamId ?? null }], now());
      });
    },
    /** Who was in which team from when (reports attribute each person-day with it). */
    membershipHistory: (orgId: string) => membershipHistory(db, orgId),
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
    async listOrgs(): Promise<OrgRow[]> {
      return db.select().from(orgs).orderBy(orgs.createdAt);
    },
    async findUserByEmail(orgId: string, email: string): Promise<UserRow | undefined> {
      const [row] = await db
        .select()
        .from(users)
        .where(and(eq(users.orgId, orgId), sql`lower(${users.email}) = lower(${email})`));
      return row;
    },
    async findUsersByEmail(email: string): Promise<UserRow[]> {
      return db
        .select()
        .from(users)
        .where(sql`lower(${users.email}) = lower(${email})`)
        .orderBy(users.createdAt);
    },
    /** The org's teams by name (report pickers, comparisons). */
    async listTeams(orgId: string): Promise<{ id: string; name: string }[]> {
      return db.select({ id: teams.id, name: teams.name }).from(teams).where(eq(teams.orgId, orgId)).orderBy(teams.name);
    },
    /**
     * People of the org named by id (deactivated ones too: the audit log names past actors), or
     * whose name or email contains `text`, case-insensitively; at most `limit`. Pages that show a
     * few people of a large org read these, not the whole directory.
     */
    async findMembers(
      orgId: string,
      q: { ids?: readonly string[]; text?: string; limit?: number },
    ): Promise<{ id: string; name: string; email: string; role: UserRow['role']; deactivated: boolean }[]> {
      const match = [];
      if (q.ids && q.ids.length > 0) match.push(inArray(users.id, [...q.ids]));
      if (q.text) {
        const like = `%${q.text.replace(/[\\%_]/g, '\\$&')}%`;
        match.push(and(isNull(users.deactivatedAt), or(sql`${users.name} ilike ${like}`, sql`${users.email} ilike ${like}`)));
      }
      if (match.length === 0) return [];
      const rows = await db
        .select({ id: users.id, name: users.name, email: users.email, role: users.role, deactivatedAt: users.deactivatedAt })
        .from(users)
        .where(and(eq(users.orgId, orgId), or(...match)))
        .orderBy(users.name)
        .limit(q.limit ?? 1000);
      return rows.map(({ deactivatedAt, ...r }) => ({ ...r, deactivated: deactivatedAt !== null }));
    },
    /** Everyone active in the org with their team (reports resolve team membership from this). */
    async listMembers(orgId: string): Promise<{ id: string; name: string; email: string; teamId: string | null; role: UserRow['role'] }[]> {
      return db
        .select({ id: users.id, name: users.name, email: users.email, teamId: users.teamId, role: users.role })
        .from(users)
        .where(and(eq(users.orgId, orgId), isNull(users.deactivatedAt)))
        .orderBy(users.name);
    },
    /** Active people who may review a policy version: admins and works-council members. */
    async policyReviewers(orgId: string): Promise<{ id: string; role: UserRow['role']; worksCouncil: boolean }[]> {
      return db
        .select({ id: users.id, role: users.role, worksCouncil: users.worksCouncil })
        .from(users)
        .where(and(eq(users.orgId, orgId), isNull(users.deactivatedAt), or(eq(users.role, 'admin'), eq(users.worksCouncil, true))));
    },
    /** Active people of the org without a password who may have one: imported or made without one, they cannot sign in yet. */
    async peopleWithoutPassword(orgId: string): Promise<{ id: string; name: string; email: string }[]> {
      return db
        .select({ id: users.id, name: users.name, email: users.email })
        .from(users)
        .where(and(eq(users.orgId, orgId), isNull(users.deactivatedAt), isNull(users.passwordHash), eq(users.ssoOnly, false)))
        .orderBy(users.name);
    },
    async findUserByOsUser(orgId: string, osUser: string): Promise<UserRow | undefined> {
      const [row] = await db
        .select()
        .from(users)
        .where(and(eq(users.orgId, orgId), sql`lower(${users.osUser}) = lower(${osUser})`));
      return row;
    },
    async findTeam(id: string): Promise<TeamRow | undefined> {
      const [row] = await db.select().from(teams).where(eq(teams.id, id));
      return row;
    },
    async teamsOfOrg(orgId: string): Promise<TeamRow[]> {
      return db.select().from(teams).where(eq(teams.orgId, orgId));
    },
    /** This org's people with any of these emails; other orgs' people are never looked at. */
    async usersByEmails(orgId: string, emails: string[]): Promise<UserRow[]> {
      if (emails.length === 0) return [];
      const lowered = emails.map((e) => e.toLowerCase());
      return db
        .select()
        .from(users)
        .where(and(eq(users.orgId, orgId), inArray(sql`lower(${users.email})`, lowered)));
    },
    async managedTeamIds(userId: string): Promise<string[]> {
      const rows = await db.select({ teamId: teamManagers.teamId }).from(teamManagers).where(eq(teamManagers.userId, userId));
      return rows.map((r) => r.teamId);
    },
    /** False for a person who signs in through the identity provider only: nothing is stored. */
    async setPasswordHash(userId: string, passwordHash: string): Promise<boolean> {
      const rows = await db
        .update(users)
        .set({ passwordHash })
        .where(and(eq(users.id, userId), eq(users.ssoOnly, false)))
        .returning({ id: users.id });
      return rows.length === 1;
    },
    async setTotpSecret(userId: string, secret: string | null) {
      await db.update(users).set({ totpSecret: secret, totpLastStep: null }).where(eq(users.id, userId));
    },
    /** Sealed TOTP seeds counted by the key id in their "v2.<id>." prefix (null: a "v1." seed, the ring's first key). */
    async totpSecretKeyCounts(): Promise<{ keyId: string | null; n: number }[]> {
      const rows = await database.rows<{ key_id: string | null; n: number }>(sql`
        select case when totp_secret like 'v2.%' then substring(totp_secret from 4 for 16) end as key_id, count(*)::int as n
          from users where totp_secret is not null group by 1`);
      return rows.map((r) => ({ keyId: r.key_id, n: Number(r.n) }));
    },
    /** Up to `limit` sealed seeds not sealed with `prefix`, in id order after `after`. */
    async totpSecretsNotSealedWith(prefix: string, after: string | undefined, limit: number): Promise<{ id: string; totpSecret: string }[]> {
      const rows = await database.rows<{ id: string; totp_secret: string }>(sql`
        select id, totp_secret from users
         where totp_secret is not null and left(totp_secret, ${prefix.length}) <> ${prefix}
           and (${after ?? null}::uuid is null or id > ${after ?? null}::uuid)
         order by id limit ${limit}`);
      return rows.map((r) => ({ id: r.id, totpSecret: r.totp_secret }));
    },
    /** Replaces a seed with the same seed sealed anew, if it is still `before` (the last used step stays). */
    async resealTotpSecret(userId: string, before: string, after: string): Promise<boolean> {
      const updated = await db
        .update(users)
        .set({ totpSecret: after })
        .where(and(eq(users.id, userId), eq(users.totpSecret, before)))
        .returning({ id: users.id });
      return updated.length === 1;
    },
    /** Records `step` as used; false when it (or a later one) was used already: a replay. */
    async claimTotpStep(userId: string, step: number): Promise<boolean> {
      const updated = await db
        .update(users)
        .set({ totpLastStep: step })
        .where(and(eq(users.id, userId), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
        .returning({ id: users.id });
      return updated.length === 1;
    },
    async applyImport(plan: DirectoryImportPlan) {
      await db.transaction(async (tx) => {
        // In slices: one statement may carry at most 65,535 parameters (8,192 people of 8 columns).
        for (const slice of slices(plan.newTeams)) await tx.insert(teams).values(slice.map((t) => ({ ...t, orgId: plan.orgId })));
        // Insert without managers first: a manager may be a row further down the same file.
        for (const slice of slices(plan.newUsers)) await tx.insert(users).values(slice.map((u) => ({ ...u, managerId: null })));
        // Then every new person's manager, a slice of people per statement.
        for (const slice of slices(plan.newUsers.flatMap((u) => (u.managerId && u.id ? [{ id: u.id, managerId: u.managerId }] : [])))) {
          await tx.execute(sql`
            update users set manager_id = m.manager_id
            from unnest(${`{${slice.map((u) => u.id).join(',')}}`}::uuid[], ${`{${slice.map((u) => u.managerId).join(',')}}`}::uuid[]) as m(id, manager_id)
            where users.id = m.id and users.org_id = ${plan.orgId}::uuid`);
        }
        for (const u of plan.updatedUsers) {
          const { id, ...changes } = u;
          await tx
            .update(users)
            .set(changes)
            .where(and(eq(users.id, id), eq(users.orgId, plan.orgId)));
        }
        // Every team change the file makes, and every new person's first team, enter the history.
        const memberships = [
          ...plan.newUsers.flatMap((u) => (u.id ? [{ userId: u.id, teamId: u.teamId ?? null }] : [])),
          ...plan.updatedUsers.map((u) => ({ userId: u.id, teamId: u.teamId })),
        ];
        await recordMemberships(tx, plan.orgId, memberships, now());
        for (const slice of slices(plan.teamManagers)) await tx.insert(teamManagers).values(slice).onConflictDoNothing();
      });
    },
  };
}
export type DirectoryStore = ReturnType<typeof createDirectoryStore>;
