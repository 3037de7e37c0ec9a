import { safeText } from '@icarus/shared';
import { z } from 'zod';
import type { AuditService } from '../audit';
import type { BindingService, DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';

/** Blank team in a form means "no team"; the API may send null or leave it out. */
export const EnrollmentTokenInput = z.strictObject({
  label: safeText(z.string().trim().min(1, 'is required').max(200)),
  validDays: z.coerce.number().int('must be a whole number of days').min(1).max(365),
  maxUses: z.coerce.number().int('must be a whole number').min(1).max(100_000),
  teamId: z.preprocess((v) => (v === '' ? null : v), z.uuid('must be a team id').nullable().optional()),
  /** A per-user token: devices enrolled with it are bound to this person (for MDM deployment to one computer). */
  userId: z.preprocess((v) => (v === '' ? null : v), z.uuid('must be a person id').nullable().optional()),
});
export type EnrollmentTokenInput = z.infer<typeof EnrollmentTokenInput>;

/** IT names who a device belongs to; null unbinds it. */
export const DeviceAssignment = z.strictObject({
  userId: z.preprocess((v) => (v === '' ? null : v), z.uuid('must be a person id').nullable()),
});

export type TokenState = 'live' | 'expired' | 'used_up' | 'revoked';

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
    async listDevices(user: SignedInUser) {
      const [rows, people] = await Promise.all([devices.listDevices(user.orgId), directory.listMembers(user.orgId)]);
      const byId = new Map(people.map((p) => [p.id, p]));
      const list = rows.map((d) => {
        const owner = d.userId ? byId.get(d.userId) : undefined;
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
      });
      // Owners and last-sync times are personal data: the read is on their "who viewed" list.
      const subjects = [...new Set(list.flatMap((d) => (d.owner ? [d.owner.userId] : [])))];
      await audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.userId,
        action: 'admin.devices_viewed',
        subjectUserIds: subjects,
        details: { devices: list.length },
      });
      return list;
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
