// SCIM provisioning's rules: each identity provider connection writes one org's people and teams.
// Deprovisioning (active false, or DELETE) deactivates the person, ends their devices' bindings
// (the devices stop capture and say why) and keeps or erases their data by the org's setting.
import { createHash, randomBytes } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { AppError } from '../../platform/errors';
import type { AuditService } from '../audit';
import type { BindingService } from '../devices';
import type { ProvisionedDirectory, ProvisionedPerson } from '../directory';
import type { RightsService } from '../rights';
import { matches, parseFilter } from './filter';
import { applyPatch, type PatchRequest } from './patch';
import { groupFromScim, groupToScim, LIST_SCHEMA, userFromScim, userToScim, type GroupInput, type Json, type UserInput } from './resources';
import { ScimError } from './scim-error';
import type { ConnectionRow, ProvisioningStore } from './store';

export const SCIM_TOKEN_PREFIX = 'icn_scim_';
/** Most resources one list answer carries (the ServiceProviderConfig says so too). */
export const MAX_PAGE = 200;

export interface Connection {
  id: string;
  orgId: string;
  name: string;
}

interface Admin {
  userId: string;
  orgId: string;
}

export interface ListQuery {
  filter?: string | undefined;
  startIndex: number;
  count: number;
  excludedAttributes?: string | undefined;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function createProvisioningService(deps: {
  store: ProvisioningStore;
  directory: ProvisionedDirectory;
  bindings: Pick<BindingService, 'endBindingsOf'>;
  rights: Pick<RightsService, 'eraseDeprovisioned'>;
  audit: AuditService;
  /** Where `/scim/v2` is served, for `meta.location`. */
  baseUrl: () => string;
  now?: () => Date;
}) {
  const { store, directory, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const touched = new Map<string, number>();
  const actorOf = (c: Connection) => `scim:${c.id}`;
  const record = (c: Connection, action: string, details: Record<string, unknown>, subjectUserIds: string[] = []) =>
    audit.record({ orgId: c.orgId, actorType: 'system', actorId: actorOf(c), action, subjectUserIds, details: { connection: c.name, ...details } });

  const notFound = (what: 'User' | 'Group', id: string) => new ScimError(404, `${what} ${id.slice(0, 100)} not found`);

  async function teamsById(orgId: string) {
    return new Map((await directory.teams(orgId)).map((t) => [t.id, t]));
  }

  async function livePerson(c: Connection, id: string): Promise<ProvisionedPerson> {
    const person = /^[0-9a-f-]{36}$/i.test(id) ? await directory.person(c.orgId, id) : undefined;
    const scim = person ? await store.scimUser(c.orgId, person.id) : undefined;
    if (!person || scim?.deletedAt) throw notFound('User', id);
    return person;
  }

  async function userView(c: Connection, person: ProvisionedPerson): Promise<Json> {
    const [scim, teams] = await Promise.all([store.scimUser(c.orgId, person.id), teamsById(c.orgId)]);
    return userToScim(person, scim, person.teamId ? teams.get(person.teamId) : undefined, deps.baseUrl());
  }

  async function liveTeam(c: Connection, id: string) {
    const team = /^[0-9a-f-]{36}$/i.test(id) ? (await teamsById(c.orgId)).get(id) : undefined;
    const scim = team ? await store.scimGroup(c.orgId, team.id) : undefined;
    if (!team || scim?.deletedAt) throw notFound('Group', id);
    return { team, scim };
  }

  async function groupView(c: Connection, id: string, withMembers = true): Promise<Json> {
    const { team, scim } = await liveTeam(c, id);
    return groupToScim(team, scim, withMembers ? await directory.teamMembers(c.orgId, team.id) : undefined, deps.baseUrl());
  }

  function page(all: Json[], q: ListQuery) {
    const start = Math.max(1, q.startIndex);
    const resources = all.slice(start - 1, start - 1 + Math.min(Math.max(0, q.count), MAX_PAGE));
    return { schemas: [LIST_SCHEMA], totalResults: all.length, startIndex: start, itemsPerPage: resources.length, Resources: resources };
  }

  /** Deactivates, ends device bindings (each device told), and keeps or erases the data as the org set. */
  async function deprovision(c: Connection, person: ProvisionedPerson, why: string) {
    if (!person.active) return;
    await directory.setDeactivated(c.orgId, person.id, now());
    const data = await store.deprovisionedData(c.orgId);
    const reason = `your account was removed from the organisation's directory (${why})`;
    const devices = await deps.bindings.endBindingsOf(c.orgId, person.id, { type: 'system', id: actorOf(c) }, reason, { eraseLocal: data === 'erase' });
    const erasure = data === 'erase' ? await deps.rights.eraseDeprovisioned(c.orgId, person.id, actorOf(c)) : undefined;
    await record(c, 'scim.user_deprovisioned', { userId: person.id, why, devicesUnbound: devices, data, ...(erasure ? { erasureId: erasure.id } : {}) }, [
      person.id,
    ]);
  }

  /** Writes what the provider says of a person (email, name, active) and remembers its userName and externalId. */
  async function writeUser(c: Connection, person: ProvisionedPerson, input: UserInput, created: Date) {
    if (person.email !== input.email || person.name !== input.name) await directory.updatePerson(c.orgId, person.id, { email: input.email, name: input.name });
    await store.upsertScimUser({
      userId: person.id,
      orgId: c.orgId,
      connectionId: c.id,
      userName: input.userName,
      externalId: input.externalId,
      createdAt: created,
      updatedAt: now(),
      deletedAt: null,
    });
    if (person.active && !input.active) await deprovision(c, person, 'set inactive');
    if (!person.active && input.active) {
      await directory.setDeactivated(c.orgId, person.id, null);
      await record(c, 'scim.user_reactivated', { userId: person.id }, [person.id]);
    }
  }

  /** Team membership follows the group: a person is in one team, so joining a group moves them out of the last. */
  async function writeGroup(c: Connection, teamId: string, input: GroupInput) {
    const people = new Map((await directory.people(c.orgId)).map((p) => [p.id, p]));
    const unknown = input.memberIds.find((id) => !people.has(id));
    if (unknown) throw new ScimError(400, `members: ${unknown.slice(0, 100)} is not a user of this organisation`, 'invalidValue');
    const before = (await directory.teamMembers(c.orgId, teamId)).map((m) => m.id);
    const joined = input.memberIds.filter((id) => !before.includes(id));
    const left = before.filter((id) => !input.memberIds.includes(id));
    for (const id of joined) await directory.movePerson(c.orgId, id, teamId);
    for (const id of left) await directory.movePerson(c.orgId, id, null);
    if (joined.length + left.length > 0) await record(c, 'scim.group_members_changed', { teamId, joined, left }, [...joined, ...left]);
  }

  /** A replaced or patched group: its SCIM row kept (created when it was first) and its members as sent. */
  async function keepGroup(c: Connection, teamId: string, createdAt: Date | undefined, input: GroupInput) {
    await store.upsertScimGroup({ teamId, orgId: c.orgId, connectionId: c.id, externalId: input.externalId, createdAt: createdAt ?? now(), updatedAt: now() });
    await writeGroup(c, teamId, input);
  }

  return {
    /** The connection a bearer token belongs to; every refusal reads the same. */
    async authenticate(authorization: string | undefined): Promise<Connection> {
      const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      const row = token?.startsWith(SCIM_TOKEN_PREFIX) ? await store.connectionByHash(hashToken(token)) : undefined;
      if (!row || row.revokedAt) throw new ScimError(401, 'A valid SCIM bearer token of this server is required');
      const at = now().getTime();
      if ((touched.get(row.id) ?? 0) < at - 60_000) {
        touched.set(row.id, at);
        await store.touchConnection(row.id, now());
      }
      return { id: row.id, orgId: row.orgId, name: row.name };
    },

    async listUsers(c: Connection, q: ListQuery) {
      const filter = q.filter ? parseFilter(q.filter) : undefined;
      // Providers look each user up by `userName eq` or `externalId eq` before writing it: those are
      // answered from indexed candidates (still checked against the filter), not a scan of the org.
      const single =
        filter?.op === 'eq' && typeof filter.compValue === 'string' ? { attribute: filter.attrPath.toLowerCase(), value: filter.compValue } : undefined;
      if (single && (single.attribute === 'username' || single.attribute === 'externalid')) {
        const named = await store.scimUsersNamed(c.orgId, single.attribute === 'username' ? { userName: single.value } : { externalId: single.value });
        const byEmail = single.attribute === 'username' ? await directory.personByEmail(c.orgId, single.value) : undefined;
        const ids = new Set([...named.map((r) => r.userId), ...(byEmail ? [byEmail.id] : [])]);
        const people = (await Promise.all([...ids].map((id) => directory.person(c.orgId, id)))).filter((p) => p !== undefined);
        const views = await Promise.all(people.map((p) => userView(c, p)));
        const live = await Promise.all(people.map(async (p) => !(await store.scimUser(c.orgId, p.id))?.deletedAt));
        return page(
          views.filter((v, i) => live[i] && filter && matches(filter, v)),
          q,
        );
      }
      const [people, scimRows, teams] = await Promise.all([directory.people(c.orgId), store.scimUsers(c.orgId), teamsById(c.orgId)]);
      const scimOf = new Map(scimRows.map((r) => [r.userId, r]));
      const views = people
        .filter((p) => !scimOf.get(p.id)?.deletedAt)
        .map((p) => userToScim(p, scimOf.get(p.id), p.teamId ? teams.get(p.teamId) : undefined, deps.baseUrl()))
        .filter((v) => !filter || matches(filter, v));
      return page(views, q);
    },

    getUser: async (c: Connection, id: string) => userView(c, await livePerson(c, id)),

    /** A new person, or (when their email is already in the directory, say from an import) that person adopted. */
    async createUser(c: Connection, body: unknown): Promise<Json> {
      const input = userFromScim(body);
      const existing = await directory.personByEmail(c.orgId, input.email);
      if (existing) {
        const scim = await store.scimUser(c.orgId, existing.id);
        if (scim && !scim.deletedAt) throw new ScimError(409, `A user with the email ${input.email} exists already (id ${existing.id})`, 'uniqueness');
        await writeUser(c, existing, input, now());
        await record(c, 'scim.user_adopted', { userId: existing.id, externalId: input.externalId }, [existing.id]);
        return userView(c, (await directory.person(c.orgId, existing.id)) ?? existing);
      }
      const id = await directory.createPerson(c.orgId, { email: input.email, name: input.name, teamId: null, active: input.active });
      await store.upsertScimUser({
        userId: id,
        orgId: c.orgId,
        connectionId: c.id,
        userName: input.userName,
        externalId: input.externalId,
        createdAt: now(),
        updatedAt: now(),
      });
      await record(c, 'scim.user_created', { userId: id, externalId: input.externalId, active: input.active }, [id]);
      return userView(c, await livePerson(c, id));
    },

    async replaceUser(c: Connection, id: string, body: unknown): Promise<Json> {
      const person = await livePerson(c, id);
      const input = userFromScim(body);
      const scim = await store.scimUser(c.orgId, person.id);
      await writeUser(c, person, input, scim?.createdAt ?? now());
      await record(c, 'scim.user_replaced', { userId: person.id }, [person.id]);
      return userView(c, await livePerson(c, id));
    },

    async patchUser(c: Connection, id: string, patch: PatchRequest): Promise<Json> {
      const person = await livePerson(c, id);
      const before = await userView(c, person);
      const after = applyPatch(before, patch);
      const input = userFromScim(after);
      const scim = await store.scimUser(c.orgId, person.id);
      await writeUser(c, person, input, scim?.createdAt ?? now());
      await record(
        c,
        'scim.user_patched',
        { userId: person.id, operations: patch.Operations.map((o) => `${o.op.toLowerCase()} ${o.path ?? '(attributes)'}`) },
        [person.id],
      );
      return userView(c, await livePerson(c, id));
    },

    /** The provider deleted the user: deprovisioned like `active: false`, and the SCIM resource is gone. */
    async deleteUser(c: Connection, id: string): Promise<void> {
      const person = await livePerson(c, id);
      const scim = await store.scimUser(c.orgId, person.id);
      await deprovision(c, person, 'deleted');
      await store.upsertScimUser({
        userId: person.id,
        orgId: c.orgId,
        connectionId: c.id,
        userName: scim?.userName ?? person.email,
        externalId: scim?.externalId ?? null,
        createdAt: scim?.createdAt ?? person.createdAt,
        updatedAt: now(),
        deletedAt: now(),
      });
      await record(c, 'scim.user_deleted', { userId: person.id }, [person.id]);
    },

    async listGroups(c: Connection, q: ListQuery) {
      const filter = q.filter ? parseFilter(q.filter) : undefined;
      const withMembers = !(q.excludedAttributes ?? '').split(',').some((a) => a.trim().toLowerCase() === 'members');
      const [teams, scimRows, people] = await Promise.all([directory.teams(c.orgId), store.scimGroups(c.orgId), directory.people(c.orgId)]);
      const scimOf = new Map(scimRows.map((r) => [r.teamId, r]));
      // Members are read for the filter even when the answer leaves them out (`members[value eq …]`).
      const views = teams
        .filter((t) => !scimOf.get(t.id)?.deletedAt)
        .map((t) => ({
          t,
          view: groupToScim(
            t,
            scimOf.get(t.id),
            people.filter((p) => p.teamId === t.id),
            deps.baseUrl(),
          ),
        }))
        .filter(({ view }) => !filter || matches(filter, view))
        .map(({ t, view }) => (withMembers ? view : groupToScim(t, scimOf.get(t.id), undefined, deps.baseUrl())));
      return page(views, q);
    },

    getGroup: (c: Connection, id: string, withMembers: boolean) => groupView(c, id, withMembers),

    /** A new team, or the org's team of that name adopted (teams made by hand or by import before SCIM). */
    async createGroup(c: Connection, body: unknown): Promise<Json> {
      const input = groupFromScim(body);
      const existing = (await directory.teams(c.orgId)).find((t) => t.name.toLowerCase() === input.displayName.toLowerCase());
      const known = existing ? await store.scimGroup(c.orgId, existing.id) : undefined;
      if (existing && known && !known.deletedAt) {
        throw new ScimError(409, `A group called "${input.displayName}" exists already (id ${existing.id})`, 'uniqueness');
      }
      const teamId = existing?.id ?? (await directory.createTeam(c.orgId, input.displayName));
      await store.upsertScimGroup({
        teamId,
        orgId: c.orgId,
        connectionId: c.id,
        externalId: input.externalId,
        createdAt: now(),
        updatedAt: now(),
        deletedAt: null,
      });
      await record(c, existing ? 'scim.group_adopted' : 'scim.group_created', { teamId, name: input.displayName });
      await writeGroup(c, teamId, input);
      return groupView(c, teamId);
    },

    async replaceGroup(c: Connection, id: string, body: unknown): Promise<Json> {
      const { team, scim } = await liveTeam(c, id);
      const input = groupFromScim(body);
      if (input.displayName !== team.name) await directory.renameTeam(c.orgId, team.id, input.displayName);
      await keepGroup(c, team.id, scim?.createdAt, input);
      await record(c, 'scim.group_replaced', { teamId: team.id, name: input.displayName });
      return groupView(c, team.id);
    },

    async patchGroup(c: Connection, id: string, patch: PatchRequest): Promise<Json> {
      const { team, scim } = await liveTeam(c, id);
      const before = await groupView(c, team.id);
      const input = groupFromScim(applyPatch(before, patch));
      if (input.displayName !== team.name) {
        await directory.renameTeam(c.orgId, team.id, input.displayName);
        await record(c, 'scim.group_renamed', { teamId: team.id, from: team.name, to: input.displayName });
      }
      await keepGroup(c, team.id, scim?.createdAt, input);
      return groupView(c, team.id);
    },

    /** The group is gone: its people leave the team (nobody is deprovisioned); the team stays for past reports. */
    async deleteGroup(c: Connection, id: string): Promise<void> {
      const { team, scim } = await liveTeam(c, id);
      await writeGroup(c, team.id, { displayName: team.name, externalId: scim?.externalId ?? null, memberIds: [] });
      await store.upsertScimGroup({
        teamId: team.id,
        orgId: c.orgId,
        connectionId: c.id,
        externalId: scim?.externalId ?? null,
        createdAt: scim?.createdAt ?? now(),
        updatedAt: now(),
        deletedAt: now(),
      });
      await record(c, 'scim.group_deleted', { teamId: team.id, name: team.name });
    },

    // Administration: connections and the setting for leavers' data, by the org's admins.

    /** A new connection; its token is returned once and kept only as a hash. */
    async createConnection(admin: Admin, name: string): Promise<{ id: string; name: string; token: string; createdAt: string }> {
      const token = `${SCIM_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const row = {
        id: uuidv7(),
        orgId: admin.orgId,
        name,
        tokenHash: hashToken(token),
        tokenHint: token.slice(0, SCIM_TOKEN_PREFIX.length + 4),
        createdBy: admin.userId,
        createdAt: now(),
      };
      await store.insertConnection(row);
      await audit.record({
        orgId: admin.orgId,
        actorType: 'user',
        actorId: admin.userId,
        action: 'scim.connection_created',
        details: { connectionId: row.id, name },
      });
      return { id: row.id, name, token, createdAt: row.createdAt.toISOString() };
    },

    async connections(admin: Admin) {
      return (await store.connections(admin.orgId)).map((r: ConnectionRow) => ({
        id: r.id,
        name: r.name,
        tokenHint: r.tokenHint,
        createdAt: r.createdAt.toISOString(),
        lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
        revokedAt: r.revokedAt?.toISOString() ?? null,
      }));
    },

    async revokeConnection(admin: Admin, id: string): Promise<void> {
      if (!(await store.revokeConnection(admin.orgId, id, now())))
        throw new AppError('not_found', 'No such live SCIM connection in this organisation', [{ path: 'connectionId', problem: 'not found' }]);
      await audit.record({ orgId: admin.orgId, actorType: 'user', actorId: admin.userId, action: 'scim.connection_revoked', details: { connectionId: id } });
    },

    deprovisionedData: (admin: Admin) => store.deprovisionedData(admin.orgId),

    async setDeprovisionedData(admin: Admin, value: 'keep' | 'erase'): Promise<void> {
      const before = await store.deprovisionedData(admin.orgId);
      if (before === value) return;
      await store.setDeprovisionedData(admin.orgId, value, admin.userId, now());
      await audit.record({
        orgId: admin.orgId,
        actorType: 'user',
        actorId: admin.userId,
        action: 'scim.deprovisioned_data_set',
        details: { from: before, to: value },
      });
    },
  };
}
export type ProvisioningService = ReturnType<typeof createProvisioningService>;
