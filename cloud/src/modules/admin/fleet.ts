import { safeText } from '@icarus/shared';
import { z } from 'zod';
import type { AuditService } from '../audit';
import type { BindingService, DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';

/** A whole number from a form or JSON, with the problem said in plain words (a form sends "abc" as text, not NaN). */
const wholeNumber = (what: string, min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : v),
    z
      .number({ error: `enter ${what} as a whole number from ${min} to ${max}` })
      .int(`enter ${what} as a whole number from ${min} to ${max}`)
      .min(min, `enter ${what} as a whole number from ${min} to ${max}`)
      .max(max, `enter ${what} as a whole number from ${min} to ${max}`),
  );

/** Blank team in a form means "no team"; the API may send null or leave it out. */
export const EnrollmentTokenInput = z.strictObject({
  label: safeText(z.string({ error: 'enter a label' }).trim().min(1, 'enter a label, such as "Sales laptops"').max(200, 'keep the label under 200 characters')),
  validDays: wholeNumber('the number of days', 1, 365),
  maxUses: wholeNumber('the use limit', 1, 100_000),
  teamId: z.preprocess((v) => (v === '' ? null : v), z.uuid('must be a team id').nullable().optional()),
  /** A per-user token: devices enrolled with it are bound to this person (for MDM deployment to one computer). */
  userId: z.preprocess((v) => (v === '' ? null : v), z.uuid('must be a person id').nullable().optional()),
});
export type EnrollmentTokenInput = z.infer<typeof EnrollmentTokenInput>;

export const FLEET_PAGE_SIZE = 50;
const HEALTH = ['silent', 'dropping', 'failing', 'outdated', 'unbound'] as const;
const SORTS = ['enrolled', 'name', 'lastSync', 'version', 'platform'] as const;

/** The fleet page's search, filters, sort and page as query parameters; blank ones are left out. */
export const FleetQuery = z.preprocess(
  (raw) => (raw && typeof raw === 'object' ? Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== '')) : raw),
  z.strictObject({
    q: z.string().trim().max(200, 'keep the search under 200 characters').optional(),
    state: z.enum(['active', 'revoked', 'all'], { error: 'choose active, revoked or all' }).default('active'),
    health: z.enum(HEALTH, { error: `choose one of: ${HEALTH.join(', ')}` }).optional(),
    platform: z.string().max(40).optional(),
    sort: z.enum(SORTS, { error: `sort by one of: ${SORTS.join(', ')}` }).default('enrolled'),
    dir: z.enum(['asc', 'desc'], { error: 'choose asc or desc' }).optional(),
    page: z.coerce.number({ error: 'the page must be a whole number' }).int('the page must be a whole number').min(1).max(100_000).default(1),
    limit: z.coerce.number().int().min(1).max(500).default(FLEET_PAGE_SIZE),
  }),
);
export type FleetQuery = z.infer<typeof FleetQuery>;

/** IT names who a device belongs to; null unbinds it. */
export const DeviceAssignment = z.strictObject({
  userId: z.preprocess((v) => (v === '' ? null : v), z.uuid('must be a person id').nullable()),
});

export type TokenState = 'live' | 'expired' | 'used_up' | 'revoked';

type DeviceRow = NonNullable<Awaited<ReturnType<DeviceService['findDevice']>>>;
type Member = Pick<Awaited<ReturnType<DirectoryService['findMembers']>>[number], 'id' | 'name' | 'email'>;

function deviceView(d: DeviceRow, owner: Member | undefined) {
  return {
    deviceId: d.id,
    name: d.name,
    platform: d.platform,
    osUser: d.osUser,
    owner: owner ? { userId: owner.id, name: owner.name, email: owner.email } : null,
    agentVersion: d.status?.agentVersion ?? d.agentVersion,
    enrolledAt: d.enrolledAt.toISOString(),
    lastSyncAt: d.lastSeenAt?.toISOString() ?? null,
    pendingSpans: d.status?.pendingSpans ?? null,
    droppedSpans: d.status?.droppedSpans ?? null,
    failingSources: (d.status?.captureSources ?? []).filter((s) => !s.ok).map((s) => ({ name: s.name, problem: s.problem ?? 'failing' })),
    revokedAt: d.revokedAt?.toISOString() ?? null,
  };
}
export type DeviceView = ReturnType<typeof deviceView>;

/** Devices and enrollment tokens of the signed-in admin's org; the services scope every row by org. */
export function createFleetAdmin(deps: {
  devices: DeviceService;
  bindings: BindingService;
  directory: DirectoryService;
  audit: AuditService;
  now?: () => Date;
}) {
  const { devices, bindings, directory, audit } = deps;
  const now = deps.now ?? (() => new Date());

  return {
    /**
     * One page of the org's devices as the search, filters and sort ask, with the fleet's health
     * summary. The owners shown are personal data: the read is on their "who viewed" lists.
     */
    async listDevices(user: SignedInUser, q: FleetQuery) {
      // Devices whose owner's name or email matches are found too.
      const ownerIds = q.q ? (await directory.findMembers(user.orgId, { text: q.q, limit: 1000 })).map((p) => p.id) : undefined;
      const descending = (q.dir ?? (q.sort === 'name' || q.sort === 'platform' ? 'asc' : 'desc')) === 'desc';
      const offset = (q.page - 1) * q.limit;
      const summary = await devices.fleetSummary(user.orgId);
      const found = await devices.searchFleet(
        user.orgId,
        {
          text: q.q,
          ownerIds,
          state: q.state,
          health: q.health,
          platform: q.platform,
          sort: q.sort,
          descending,
          offset,
          limit: q.limit,
        },
        summary,
      );
      const ownerIdsShown = [...new Set(found.rows.flatMap((d) => (d.userId ? [d.userId] : [])))];
      const byId = new Map((await directory.findMembers(user.orgId, { ids: ownerIdsShown })).map((p) => [p.id, p]));
      const list = found.rows.map((d) => deviceView(d, d.userId ? byId.get(d.userId) : undefined));
      const subjects = [...new Set(list.flatMap((d) => (d.owner ? [d.owner.userId] : [])))];
      await audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.userId,
        action: 'admin.devices_viewed',
        subjectUserIds: subjects,
        details: { devices: list.length, matching: found.total, search: q.q ?? null, health: q.health ?? null, state: q.state },
      });
      return {
        devices: list,
        total: found.total,
        page: q.page,
        pages: Math.max(1, Math.ceil(found.total / q.limit)),
        sort: q.sort,
        dir: descending ? ('desc' as const) : ('asc' as const),
        summary,
      };
    },

    /** One device of the org (revoked ones too) with its owner, for its own page; audited like the list. */
    async device(user: SignedInUser, deviceId: string): Promise<DeviceView> {
      const d = await devices.findDevice(deviceId);
      if (!d || d.orgId !== user.orgId) throw new AppError('not_found', 'No such device in this org', [{ path: 'deviceId', problem: 'not found' }]);
      const owner = d.userId ? (await directory.findMembers(user.orgId, { ids: [d.userId] }))[0] : undefined;
      await audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.userId,
        action: 'admin.device_viewed',
        subjectUserIds: owner ? [owner.id] : [],
        details: { deviceId },
      });
      return deviceView(d, owner);
    },

    /** The person of the org with this email (case-insensitive), for the assign form; a 400 naming the field otherwise. */
    async personByEmail(user: SignedInUser, email: string): Promise<string> {
      const wanted = email.trim().toLowerCase();
      const person = (await directory.findMembers(user.orgId, { text: wanted, limit: 1000 })).find((p) => p.email.toLowerCase() === wanted);
      if (!person)
        throw new AppError('validation_failed', 'No person of this organisation has that email', [
          { path: 'person', problem: 'no person of this organisation has that email' },
        ]);
      return person.id;
    },

    revokeDevice: (user: SignedInUser, deviceId: string) => devices.revoke(deviceId, user.orgId, user.userId),

    /** An active device of the admin's org, or a 404 (another org's device is not named as such). */
    async requireOwnDevice(user: SignedInUser, deviceId: string): Promise<void> {
      const device = await devices.requireActive(deviceId).catch(() => undefined);
      if (!device || device.orgId !== user.orgId)
        throw new AppError('not_found', 'No such active device in this org', [{ path: 'deviceId', problem: 'not found' }]);
    },

    /** Binds the device to a person of the org, or unbinds it (userId null); audited. */
    assignDevice: (user: SignedInUser, deviceId: string, input: z.infer<typeof DeviceAssignment>) =>
      bindings.assign(user.orgId, deviceId, input.userId, user.userId),

    async listTokens(user: SignedInUser) {
      const [rows, teams] = await Promise.all([devices.listEnrollmentTokens(user.orgId), directory.listTeams(user.orgId)]);
      const teamName = new Map(teams.map((t) => [t.id, t.name]));
      const at = now();
      return rows.map((t) => {
        const state: TokenState = t.revokedAt ? 'revoked' : t.expiresAt <= at ? 'expired' : t.uses >= t.maxUses ? 'used_up' : 'live';
        return {
          tokenId: t.id,
          label: t.label,
          team: t.teamId ? { teamId: t.teamId, name: teamName.get(t.teamId) ?? 'unknown team' } : null,
          forUserId: t.userId,
          expiresAt: t.expiresAt.toISOString(),
          maxUses: t.maxUses,
          uses: t.uses,
          createdAt: t.createdAt.toISOString(),
          revokedAt: t.revokedAt?.toISOString() ?? null,
          state,
        };
      });
    },

    /** The token itself is in this answer only; the server keeps its hash. */
    async createToken(user: SignedInUser, input: EnrollmentTokenInput) {
      if (input.teamId) {
        const team = await directory.findTeam(input.teamId);
        if (!team || team.orgId !== user.orgId) {
          throw new AppError('validation_failed', 'Invalid body: teamId: not a team of this organisation', [
            { path: 'teamId', problem: 'not a team of this organisation' },
          ]);
        }
      }
      const created = await devices.createEnrollmentToken({
        orgId: user.orgId,
        label: input.label,
        validDays: input.validDays,
        maxUses: input.maxUses,
        teamId: input.teamId ?? null,
        userId: input.userId ?? null,
        createdBy: user.userId,
      });
      return { tokenId: created.id, token: created.token, expiresAt: created.expiresAt.toISOString() };
    },

    revokeToken: (user: SignedInUser, tokenId: string) => devices.revokeEnrollmentToken(tokenId, user.orgId, user.userId),
  };
}
export type FleetAdmin = ReturnType<typeof createFleetAdmin>;
