import { hash } from '@node-rs/argon2';
import { uuidv7 } from 'uuidv7';
import { AppError } from '../../platform/errors';
import type { DirectoryStore, OrgRow, UserRow } from './store';

import { DEFAULT_WORKING_WEEK, type Role } from '@icarus/shared';

export type { Role };

export function createDirectoryService(store: DirectoryStore) {
  return {
    async createOrg(input: { name: string; timeZone: string }): Promise<OrgRow> {
      const row = {
        id: uuidv7(),
        name: input.name,
        timeZone: input.timeZone,
        worksCouncilRequired: false,
        workingWeek: DEFAULT_WORKING_WEEK,
        createdAt: new Date(),
      };
      await store.insertOrg(row);
      return row;
    },

    async createTeam(orgId: string, name: string): Promise<{ id: string }> {
      const id = uuidv7();
      await store.insertTeam({ id, orgId, name });
      return { id };
    },

    async createUser(input: {
      orgId: string;
      email: string;
      name: string;
      role: Role;
      osUser?: string | null;
      teamId?: string | null;
      password?: string;
      /** Signs in through the identity provider only: refuses a password now and later. */
      ssoOnly?: boolean;
    }): Promise<{ id: string }> {
      if (input.ssoOnly && input.password !== undefined)
        throw new AppError('validation_failed', 'A person who signs in through single sign-on has no password', [
          { path: 'password', problem: 'not allowed with single sign-on' },
        ]);
      const id = uuidv7();
      await store.insertUser({
        id,
        orgId: input.orgId,
        email: input.email,
        name: input.name,
        role: input.role,
        osUser: input.osUser ?? null,
        teamId: input.teamId ?? null,
        passwordHash: input.password ? await hash(input.password) : null,
        ssoOnly: input.ssoOnly ?? false,
      });
      return { id };
    },

    /** A new password (argon2id); the caller ends the person's sessions. */
    async setPassword(userId: string, password: string): Promise<void> {
      if (!(await store.setPasswordHash(userId, await hash(password)))) {
        throw new AppError('forbidden', "This person signs in through the organisation's identity provider and has no password here", [
          { path: 'password', problem: 'single sign-on only' },
        ]);
      }
    },

    listTeams: store.listTeams,
    listMembers: store.listMembers,
    policyReviewers: store.policyReviewers,
    findMembers: store.findMembers,
    membershipHistory: store.membershipHistory,
    findOrg: store.findOrg,
    findTeam: store.findTeam,
    managedTeamIds: store.managedTeamIds,
    setTotpSecret: store.setTotpSecret,
    /** For re-sealing TOTP seeds under the newest data key (identity's key rotation source). */
    totpSecretKeyCounts: store.totpSecretKeyCounts,
    totpSecretsNotSealedWith: store.totpSecretsNotSealedWith,
    resealTotpSecret: store.resealTotpSecret,
    claimTotpStep: store.claimTotpStep,
    firstOrg: store.firstOrg,
    listOrgs: store.listOrgs,
    findUser: store.findUser,
    /** Who cannot sign in yet (no password): the people an admin invites in bulk after an import. */
    peopleWithoutPassword: store.peopleWithoutPassword,
    /** The org's person with this email (any case): emails are unique per org only. */
    findUserByEmail: store.findUserByEmail,
    /**
     * Everyone with this email in any org, for password sign-in, which learns the org from the
     * password (and the admin command line). Nothing shown to an org may come from this.
     */
    findUsersByEmail: store.findUsersByEmail,
    /** The directory entry behind a device's OS account, matched case-insensitively. */
    findByOsUser: store.findUserByOsUser,
  };
}
export type DirectoryService = ReturnType<typeof createDirectoryService>;
