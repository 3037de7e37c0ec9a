// The directory as an identity provider keeps it over SCIM: people and teams written by the
// provider's connection, never by an admin's session. The provisioning module audits each change
// (it knows which connection made it); the rules here are the directory's own: emails unique per
// org, team names unique per org, a provisioned person never has a password.
import { and, asc, eq, sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import type { Database } from '../../platform/db/client';
import { AppError } from '../../platform/errors';
import type { PeopleStore } from './people-store';
import type { DirectoryStore } from './store';
import { teams, users } from './tables';

export interface ProvisionedPerson {
  id: string;
  email: string;
  name: string;
  teamId: string | null;
  active: boolean;
  createdAt: Date;
}

const personColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  teamId: users.teamId,
  deactivatedAt: users.deactivatedAt,
  createdAt: users.createdAt,
};
const toPerson = (r: { id: string; email: string; name: string; teamId: string | null; deactivatedAt: Date | null; createdAt: Date }): ProvisionedPerson => ({
  id: r.id,
  email: r.email,
  name: r.name,
  teamId: r.teamId,
  active: r.deactivatedAt === null,
  createdAt: r.createdAt,
});

export function createProvisionedDirectory(deps: { database: Database; store: DirectoryStore; people: PeopleStore }) {
  const { db } = deps.database;
  const { store, people } = deps;

  async function emailFree(orgId: string, email: string, except?: string) {
    const found = await store.findUserByEmail(orgId, email);
    if (found && found.id !== except)
      throw new AppError('conflict', `Another person of this organisation has the email ${email}`, [{ path: 'emails', problem: 'already taken' }]);
  }

  return {
    /** Everyone of the org, deactivated people too (the provider deactivates rather than deletes), in creation order. */
    async people(orgId: string): Promise<ProvisionedPerson[]> {
      const rows = await db.select(personColumns).from(users).where(eq(users.orgId, orgId)).orderBy(asc(users.createdAt), asc(users.id));
      return rows.map(toPerson);
    },
    async person(orgId: string, userId: string): Promise<ProvisionedPerson | undefined> {
      const [row] = await db
        .select(personColumns)
        .from(users)
        .where(and(eq(users.orgId, orgId), eq(users.id, userId)));
      return row ? toPerson(row) : undefined;
    },
    async personByEmail(orgId: string, email: string): Promise<ProvisionedPerson | undefined> {
      const [row] = await db
        .select(personColumns)
        .from(users)
        .where(and(eq(users.orgId, orgId), sql`lower(${users.email}) = lower(${email})`));
      return row ? toPerson(row) : undefined;
    },
    /** A new employee who signs in through the identity provider only. */
    async createPerson(orgId: string, input: { email: string; name: string; teamId: string | null; active: boolean }): Promise<string> {
      await emailFree(orgId, input.email);
      const id = uuidv7();
      await store.insertUser({ id, orgId, email: input.email, name: input.name, role: 'employee', teamId: input.teamId, ssoOnly: true, passwordHash: null });
      if (!input.active) await people.setDeactivated(orgId, id, new Date());
      return id;
    },
    /** New email or name; a person the provider adopts (made by an import) signs in through it from now on. */
    async updatePerson(orgId: string, userId: string, input: { email: string; name: string }): Promise<void> {
      await emailFree(orgId, input.email, userId);
      await db
        .update(users)
        .set({ email: input.email, name: input.name, ssoOnly: true, passwordHash: null })
        .where(and(eq(users.orgId, orgId), eq(users.id, userId)));
    },
    setDeactivated: people.setDeactivated,
    movePerson: people.movePerson,
    async teams(orgId: string): Promise<{ id: string; name: string; createdAt: Date }[]> {
      return db
        .select({ id: teams.id, name: teams.name, createdAt: teams.createdAt })
        .from(teams)
        .where(eq(teams.orgId, orgId))
        .orderBy(asc(teams.createdAt), asc(teams.id));
    },
    async teamMembers(orgId: string, teamId: string): Promise<{ id: string; name: string }[]> {
      return db
        .select({ id: users.id, name: users.name })
        .from(users)
        .where(and(eq(users.orgId, orgId), eq(users.teamId, teamId)))
        .orderBy(asc(users.createdAt));
    },
    async createTeam(orgId: string, name: string): Promise<string> {
      if (await people.teamNamed(orgId, name))
        throw new AppError('conflict', `There is already a team called "${name}"`, [{ path: 'displayName', problem: 'already taken' }]);
      const id = uuidv7();
      await store.insertTeam({ id, orgId, name });
      return id;
    },
    async renameTeam(orgId: string, teamId: string, name: string): Promise<void> {
      const outcome = await people.renameTeam(orgId, teamId, name);
      if (outcome === 'taken') throw new AppError('conflict', `There is already a team called "${name}"`, [{ path: 'displayName', problem: 'already taken' }]);
    },
  };
}
export type ProvisionedDirectory = ReturnType<typeof createProvisionedDirectory>;
