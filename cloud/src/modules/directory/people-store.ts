import { and, asc, count, eq, ilike, inArray, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { WorkingWeek } from '@icarus/shared';
import type { Database } from '../../platform/db/client';
import { recordMemberships } from './membership-store';
import { orgs, teamManagers, teams, users } from './tables';

export interface PersonListing {
  id: string;
  name: string;
  email: string;
  role: (typeof users.$inferSelect)['role'];
  teamId: string | null;
  teamName: string | null;
  worksCouncil: boolean;
  deactivatedAt: Date | null;
}

export interface PeopleQuery {
  search?: string | undefined;
  teamId?: string | undefined;
  /** `active` (the default), `deactivated`, or `all`. */
  status: 'active' | 'deactivated' | 'all';
  offset: number;
  limit: number;
}

/** `%` and `_` typed in a search box are letters, not wildcards. */
const likeText = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The directory's administration queries: people paged and searched, teams, managers, moves, deactivation. */
export function createPeopleStore({ db }: Database, now: () => Date = () => new Date()) {
  function peopleWhere(orgId: string, q: PeopleQuery): SQL | undefined {
    const parts: (SQL | undefined)[] = [eq(users.orgId, orgId)];
    if (q.search) parts.push(or(ilike(users.name, likeText(q.search)), ilike(users.email, likeText(q.search))));
    if (q.teamId) parts.push(eq(users.teamId, q.teamId));
    if (q.status === 'active') parts.push(isNull(users.deactivatedAt));
    if (q.status === 'deactivated') parts.push(isNotNull(users.deactivatedAt));
    return and(...parts);
  }

  return {
    /** One page of people in name order, and how many match in all. */
    async people(orgId: string, q: PeopleQuery): Promise<{ rows: PersonListing[]; total: number }> {
      const where = peopleWhere(orgId, q);
      const [rows, totals] = await Promise.all([
        db
          .select({
            id: users.id,
            name: users.name,
            email: users.email,
            role: users.role,
            teamId: users.teamId,
            teamName: teams.name,
            worksCouncil: users.worksCouncil,
            deactivatedAt: users.deactivatedAt,
          })
          .from(users)
          .leftJoin(teams, eq(teams.id, users.teamId))
          .where(where)
          .orderBy(asc(users.name), asc(users.id))
          .limit(q.limit)
          .offset(q.offset),
        db.select({ n: count() }).from(users).where(where),
      ]);
      return { rows, total: totals[0]?.n ?? 0 };
    },

    /** Every team of the org with its active members counted and its managers named. */
    async teams(orgId: string): Promise<{ id: string; name: string; members: number; managers: { id: string; name: string }[] }[]> {
      const [list, members, managers] = await Promise.all([
        db.select({ id: teams.id, name: teams.name }).from(teams).where(eq(teams.orgId, orgId)).orderBy(asc(teams.name)),
        db
          .select({ teamId: users.teamId, n: count() })
          .from(users)
          .where(and(eq(users.orgId, orgId), isNull(users.deactivatedAt), isNotNull(users.teamId)))
          .groupBy(users.teamId),
        db
          .select({ teamId: teamManagers.teamId, id: users.id, name: users.name })
          .from(teamManagers)
          .innerJoin(users, eq(users.id, teamManagers.userId))
          .where(eq(users.orgId, orgId))
          .orderBy(asc(users.name)),
      ]);
      const counts = new Map(members.map((m) => [m.teamId, m.n]));
      return list.map((t) => ({
        ...t,
        members: counts.get(t.id) ?? 0,
        managers: managers.filter((m) => m.teamId === t.id).map((m) => ({ id: m.id, name: m.name })),
      }));
    },

    /** False when another team of the org has the name (any case). */
    async renameTeam(orgId: string, teamId: string, name: string): Promise<'renamed' | 'taken' | 'not_found'> {
      const [clash] = await db
        .select({ id: teams.id })
        .from(teams)
        .where(and(eq(teams.orgId, orgId), sql`lower(${teams.name}) = lower(${name})`));
      if (clash && clash.id !== teamId) return 'taken';
      const rows = await db
        .update(teams)
        .set({ name })
        .where(and(eq(teams.orgId, orgId), eq(teams.id, teamId)))
        .returning({ id: teams.id });
      return rows.length === 1 ? 'renamed' : 'not_found';
    },

    async teamNamed(orgId: string, name: string): Promise<{ id: string } | undefined> {
      const [row] = await db
        .select({ id: teams.id })
        .from(teams)
        .where(and(eq(teams.orgId, orgId), sql`lower(${teams.name}) = lower(${name})`));
      return row;
    },

    /**
     * The team's managers become exactly `userIds`; an employee named becomes a manager (the
     * role is the highest held), and nobody else's role changes.
     */
    async setTeamManagers(teamId: string, userIds: readonly string[]): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.delete(teamManagers).where(eq(teamManagers.teamId, teamId));
        if (userIds.length === 0) return;
        await tx.insert(teamManagers).values(userIds.map((userId) => ({ teamId, userId })));
        await tx
          .update(users)
          .set({ role: 'manager' })
          .where(and(inArray(users.id, [...userIds]), eq(users.role, 'employee')));
      });
    },

    /** The person's team now, with the membership history written in the same transaction. */
    async movePerson(orgId: string, userId: string, teamId: string | null): Promise<void> {
      await db.transaction(async (tx) => {
        await tx
          .update(users)
          .set({ teamId })
          .where(and(eq(users.orgId, orgId), eq(users.id, userId)));
        await recordMemberships(tx, orgId, [{ userId, teamId }], now());
      });
    },

    /** Deactivated: no sign-in, no notices, managing no team; the history and data stay. Null reactivates. */
    async setDeactivated(orgId: string, userId: string, at: Date | null): Promise<void> {
      await db.transaction(async (tx) => {
        await tx
          .update(users)
          .set({ deactivatedAt: at })
          .where(and(eq(users.orgId, orgId), eq(users.id, userId)));
        if (at) await tx.delete(teamManagers).where(eq(teamManagers.userId, userId));
      });
    },

    async setWorksCouncil(orgId: string, userId: string, member: boolean): Promise<void> {
      await db
        .update(users)
        .set({ worksCouncil: member })
        .where(and(eq(users.orgId, orgId), eq(users.id, userId)));
    },

    async setWorkingWeek(orgId: string, week: WorkingWeek): Promise<void> {
      await db.update(orgs).set({ workingWeek: week }).where(eq(orgs.id, orgId));
    },

    async setWorksCouncilRequired(orgId: string, required: boolean): Promise<void> {
      await db.update(orgs).set({ worksCouncilRequired: required }).where(eq(orgs.id, orgId));
    },

    /** The org's works-council members, active ones only. */
    async worksCouncil(orgId: string): Promise<{ id: string; name: string; email: string }[]> {
      return db
        .select({ id: users.id, name: users.name, email: users.email })
        .from(users)
        .where(and(eq(users.orgId, orgId), eq(users.worksCouncil, true), isNull(users.deactivatedAt)))
        .orderBy(asc(users.name));
    },
  };
}
export type PeopleStore = ReturnType<typeof createPeopleStore>;
