import { DEFAULT_WORKING_WEEK, describeWorkingWeek, safeText, WorkingWeek } from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import type { AuditService } from '../audit';
import { AppError } from '../../platform/errors';
import type { PeopleQuery, PeopleStore } from './people-store';
import type { DirectoryStore } from './store';

interface Admin {
  userId: string;
  orgId: string;
}

export const TeamName = safeText(z.string().trim().min(1, 'is empty').max(200, 'is longer than 200 characters'));

/** People listed per page: 5,000 people are 100 pages, each one indexed read. */
export const PEOPLE_PAGE_SIZE = 50;

/**
 * The directory as admins keep it: people searched and paged, teams created and renamed,
 * managers set, people moved (the membership history records each move) and deactivated,
 * works-council members marked and council approval switched on. Each change is audited and
 * scoped to the admin's org: a person or team of another org is "not found".
 */
export function createPeopleAdmin(deps: { store: DirectoryStore; people: PeopleStore; audit: AuditService }) {
  const { store, people, audit } = deps;
  const record = (admin: Admin, action: string, details: Record<string, unknown>, subjectUserIds: string[] = []) =>
    audit.record({ orgId: admin.orgId, actorType: 'user', actorId: admin.userId, action, subjectUserIds, details });

  async function person(admin: Admin, userId: string) {
    const found = await store.findUser(userId);
    if (!found || found.orgId !== admin.orgId)
      throw new AppError('not_found', 'No such person in this organisation', [{ path: 'userId', problem: 'not found' }]);
    return found;
  }

  async function team(admin: Admin, teamId: string) {
    const found = await store.findTeam(teamId);
    if (!found || found.orgId !== admin.orgId) throw new AppError('not_found', 'No such team in this organisation', [{ path: 'teamId', problem: 'not found' }]);
    return found;
  }

  return {
    async listPeople(admin: Admin, query: Omit<PeopleQuery, 'limit' | 'offset'> & { page: number }) {
      const page = Math.max(1, query.page);
      const { rows, total } = await people.people(admin.orgId, { ...query, offset: (page - 1) * PEOPLE_PAGE_SIZE, limit: PEOPLE_PAGE_SIZE });
      return { people: rows, total, page, pages: Math.max(1, Math.ceil(total / PEOPLE_PAGE_SIZE)) };
    },

    listTeams: (admin: Admin) => people.teams(admin.orgId),
    worksCouncil: (admin: Admin) => people.worksCouncil(admin.orgId),

    async person(admin: Admin, userId: string) {
      const found = await person(admin, userId);
      return {
        id: found.id,
        name: found.name,
        email: found.email,
        role: found.role,
        teamId: found.teamId,
        worksCouncil: found.worksCouncil,
        deactivatedAt: found.deactivatedAt,
      };
    },

    async team(admin: Admin, teamId: string) {
      await team(admin, teamId);
      const all = await people.teams(admin.orgId);
      const found = all.find((t) => t.id === teamId);
      if (!found) throw new AppError('not_found', 'No such team in this organisation', [{ path: 'teamId', problem: 'not found' }]);
      return found;
    },

    async createTeam(admin: Admin, name: string): Promise<{ id: string }> {
      if (await people.teamNamed(admin.orgId, name))
        throw new AppError('conflict', `There is already a team called "${name}"`, [{ path: 'name', problem: 'already taken' }]);
      const id = uuidv7();
      await store.insertTeam({ id, orgId: admin.orgId, name });
      await record(admin, 'directory.team_created', { teamId: id, name });
      return { id };
    },

    async renameTeam(admin: Admin, teamId: string, name: string): Promise<void> {
      const before = await team(admin, teamId);
      const outcome = await people.renameTeam(admin.orgId, teamId, name);
      if (outcome === 'taken') throw new AppError('conflict', `There is already a team called "${name}"`, [{ path: 'name', problem: 'already taken' }]);
      if (outcome === 'not_found') throw new AppError('not_found', 'No such team in this organisation', [{ path: 'teamId', problem: 'not found' }]);
      await record(admin, 'directory.team_renamed', { teamId, from: before.name, to: name });
    },

    /** Managers must be active people of the org, and not auditors (auditors read no personal activity). */
    async setTeamManagers(admin: Admin, teamId: string, userIds: string[]): Promise<void> {
      await team(admin, teamId);
      const unique = [...new Set(userIds)];
      for (const id of unique) {
        const who = await person(admin, id);
        if (who.deactivatedAt)
          throw new AppError('validation_failed', `${who.name} is deactivated and cannot manage a team`, [{ path: 'managers', problem: 'deactivated' }]);
        if (who.role === 'auditor')
          throw new AppError('validation_failed', `${who.name} is an auditor; auditors do not read personal activity, so cannot manage a team`, [
            { path: 'managers', problem: 'an auditor' },
          ]);
      }
      await people.setTeamManagers(teamId, unique);
      await record(admin, 'directory.team_managers_set', { teamId, managers: unique }, unique);
    },

    async movePerson(admin: Admin, userId: string, teamId: string | null): Promise<void> {
      const who = await person(admin, userId);
      if (teamId) await team(admin, teamId);
      if (who.teamId === teamId) return;
      await people.movePerson(admin.orgId, userId, teamId);
      await record(admin, 'directory.person_moved', { userId, from: who.teamId, to: teamId }, [userId]);
    },

    async setActive(admin: Admin, userId: string, active: boolean, at: Date = new Date()): Promise<void> {
      const who = await person(admin, userId);
      if (!active && userId === admin.userId) throw new AppError('forbidden', 'You cannot deactivate yourself', [{ path: 'userId', problem: 'yourself' }]);
      if (active === (who.deactivatedAt === null)) return;
      await people.setDeactivated(admin.orgId, userId, active ? null : at);
      await record(admin, active ? 'directory.person_reactivated' : 'directory.person_deactivated', { userId }, [userId]);
    },

    async setWorksCouncil(admin: Admin, userId: string, member: boolean): Promise<void> {
      const who = await person(admin, userId);
      if (who.worksCouncil === member) return;
      await people.setWorksCouncil(admin.orgId, userId, member);
      await record(admin, member ? 'directory.works_council_added' : 'directory.works_council_removed', { userId }, [userId]);
    },

    /** The org's working week (days and hours in its time zone): after-hours figures are counted outside it. */
    async workingWeek(admin: Admin): Promise<WorkingWeek> {
      return (await store.findOrg(admin.orgId))?.workingWeek ?? DEFAULT_WORKING_WEEK;
    },

    /** Sets the working week from outside input (a form or the API), refused whole with each problem named. */
    async setWorkingWeek(admin: Admin, input: unknown): Promise<WorkingWeek> {
      const parsed = WorkingWeek.safeParse(input);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((i) => ({ path: i.path.join('.') || 'workingWeek', problem: i.message }));
        throw new AppError('validation_failed', `The working week was not saved: ${fields.map((f) => f.problem).join('; ')}`, fields);
      }
      const before = (await store.findOrg(admin.orgId))?.workingWeek ?? DEFAULT_WORKING_WEEK;
      const week = parsed.data;
      if (describeWorkingWeek(before) === describeWorkingWeek(week)) return week;
      await people.setWorkingWeek(admin.orgId, week);
      await record(admin, 'directory.working_week_set', { from: before, to: week, reads: describeWorkingWeek(week) });
      return week;
    },

    /** Switching council approval on needs someone on the council, or no version could ever be published. */
    async setWorksCouncilRequired(admin: Admin, required: boolean): Promise<void> {
      if (required && (await people.worksCouncil(admin.orgId)).length === 0) {
        throw new AppError('conflict', 'Mark at least one person as a works-council member first: nobody could approve a policy otherwise', [
          { path: 'worksCouncilRequired', problem: 'no works-council members' },
        ]);
      }
      await people.setWorksCouncilRequired(admin.orgId, required);
      await record(admin, 'directory.works_council_required_set', { required });
    },
  };
}
export type PeopleAdmin = ReturnType<typeof createPeopleAdmin>;
