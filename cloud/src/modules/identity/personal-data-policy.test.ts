import { describe, expect, it } from 'vitest';
import type { SignedInUser } from '../../platform/env';
import { canReadAuditLog, decidePersonalDataAccess, type ResolvedTarget } from './personal-data-policy';

const ORG = 'org-1';
const user = (role: SignedInUser['role'], extra: Partial<SignedInUser> = {}): SignedInUser => ({
  userId: `me-${role}`,
  orgId: ORG,
  email: `${role}@x.example`,
  name: role,
  role,
  managedTeamIds: [],
  teamId: 'team-own',
  sessionId: 's',
  ...extra,
});
const person = (userId: string, teamId: string | null, orgId = ORG): ResolvedTarget => ({ kind: 'user', userId, orgId, teamId });
const team = (teamId: string, orgId = ORG): ResolvedTarget => ({ kind: 'team', teamId, orgId });

describe('decidePersonalDataAccess', () => {
  it('everyone reads their own data, nobody reads another org', () => {
    for (const role of ['employee', 'manager', 'admin', 'auditor'] as const) {
      expect(decidePersonalDataAccess(user(role), person(`me-${role}`, 'team-own'))).toBe(true);
      expect(decidePersonalDataAccess(user(role), person('x', 'team-own', 'org-2'))).toBe(false);
      expect(decidePersonalDataAccess(user(role, { managedTeamIds: ['t'] }), team('t', 'org-2'))).toBe(false);
    }
  });

  it('an employee sees no one else, not even their own team', () => {
    expect(decidePersonalDataAccess(user('employee'), person('colleague', 'team-own'))).toBe(false);
    expect(decidePersonalDataAccess(user('employee'), team('team-own'))).toBe(false);
  });

  it('a manager sees the teams they manage, and no other', () => {
    const manager = user('manager', { managedTeamIds: ['team-a'] });
    expect(decidePersonalDataAccess(manager, team('team-a'))).toBe(true);
    expect(decidePersonalDataAccess(manager, person('report', 'team-a'))).toBe(true);
    expect(decidePersonalDataAccess(manager, team('team-b'))).toBe(false);
    expect(decidePersonalDataAccess(manager, person('other', 'team-b'))).toBe(false);
    expect(decidePersonalDataAccess(manager, person('teamless', null))).toBe(false);
  });

  it('an admin sees the whole org; an auditor reads the audit log but no activity', () => {
    expect(decidePersonalDataAccess(user('admin'), person('anyone', null))).toBe(true);
    expect(decidePersonalDataAccess(user('admin'), team('any'))).toBe(true);
    expect(decidePersonalDataAccess(user('auditor'), person('anyone', 'team-own'))).toBe(false);
    expect(decidePersonalDataAccess(user('auditor'), team('team-own'))).toBe(false);
    expect(canReadAuditLog(user('auditor'))).toBe(true);
    expect(canReadAuditLog(user('admin'))).toBe(true);
    expect(canReadAuditLog(user('manager'))).toBe(false);
  });
});
