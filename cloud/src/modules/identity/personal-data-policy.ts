import type { DirectoryService } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';

/** Whose personal activity data a request wants: one person, or a team's members. */
export type PersonalDataTarget = { userId: string } | { teamId: string };

/** What the policy needs to know about the target, looked up from the directory. */
export type ResolvedTarget = { kind: 'user'; userId: string; orgId: string; teamId: string | null } | { kind: 'team'; teamId: string; orgId: string };

/**
 * The access rule for personal activity data, in one place. Everyone may read their own;
 * a manager the teams they manage; an admin their org; an auditor reads the audit log and
 * no one's activity but their own. Another org's data is never readable.
 */
export function decidePersonalDataAccess(user: SignedInUser, target: ResolvedTarget): boolean {
  if (target.orgId !== user.orgId) return false;
  if (target.kind === 'user' && target.userId === user.userId) return true;
  switch (user.role) {
    case 'admin':
      return true;
    case 'manager': {
      const teamId = target.teamId;
      return teamId !== null && user.managedTeamIds.includes(teamId);
    }
    case 'employee':
    case 'auditor':
      return false;
  }
}

export const canReadAuditLog = (user: SignedInUser) => user.role === 'admin' || user.role === 'auditor';

/** The policy with its directory look-ups, as the report modules call it. */
export function createPersonalDataPolicy(directory: DirectoryService) {
  async function resolve(target: PersonalDataTarget): Promise<ResolvedTarget | undefined> {
    if ('userId' in target) {
      const person = await directory.findUser(target.userId);
      return person ? { kind: 'user', userId: person.id, orgId: person.orgId, teamId: person.teamId } : undefined;
    }
    const team = await directory.findTeam(target.teamId);
    return team ? { kind: 'team', teamId: team.id, orgId: team.orgId } : undefined;
  }
  return {
    async canReadPersonalData(user: SignedInUser, target: PersonalDataTarget): Promise<boolean> {
      const resolved = await resolve(target);
      return resolved !== undefined && decidePersonalDataAccess(user, resolved);
    },
    /**
     * Throws 404 for what does not exist or lies in another org (so ids of other orgs reveal
     * nothing), 403 for what exists in the org but is not this user's to read.
     */
    async assertCanReadPersonalData(user: SignedInUser, target: PersonalDataTarget): Promise<void> {
      const resolved = await resolve(target);
      const what = 'userId' in target ? 'person' : 'team';
      if (!resolved || resolved.orgId !== user.orgId) throw new AppError('not_found', `No such ${what}`);
      if (!decidePersonalDataAccess(user, resolved)) {
        throw new AppError('forbidden', `Your role (${user.role}) may not read this ${what}'s activity data`);
      }
    },
  };
}
export type PersonalDataPolicy = ReturnType<typeof createPersonalDataPolicy>;
