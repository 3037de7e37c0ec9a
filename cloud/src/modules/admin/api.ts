import { Hono, type Context } from 'hono';
import { PolicyContent, WorkingWeek } from '@icarus/shared';
import { z } from 'zod';
import type { PolicyDrafts } from '../consent';
import type { PeopleAdmin } from '../directory';
import type { AppEnv, RequireUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readJson } from '../../platform/http/body';
import { readQuery } from '../../platform/http/query';
import { DeviceAssignment, EnrollmentTokenInput, FleetQuery, type FleetAdmin } from './fleet';

export const ADMIN_API = {
  policies: '/api/admin/policies',
  policy: '/api/admin/policies/:version',
  submit: '/api/admin/policies/:version/submit',
  reopen: '/api/admin/policies/:version/reopen',
  approve: '/api/admin/policies/:version/approve',
  publish: '/api/admin/policies/:version/publish',
  consentHistory: '/api/admin/people/:userId/consent-history',
  tokens: '/api/admin/enrollment-tokens',
  revokeToken: '/api/admin/enrollment-tokens/:tokenId/revoke',
  devices: '/api/admin/devices',
  revokeDevice: '/api/admin/devices/:deviceId/revoke',
  assignDevice: '/api/admin/devices/:deviceId/assign',
  workingWeek: '/api/admin/working-week',
} as const;

const Version = z.coerce.number().int().min(1).max(1_000_000);
const Id = z.uuid();

/**
 * A path parameter that cannot name a row is "not found", like a row of another org: the
 * answer never tells ids of other orgs from malformed ones.
 */
export function versionParam(c: Context): number {
  const parsed = Version.safeParse(c.req.param('version'));
  if (!parsed.success) throw new AppError('not_found', 'No such policy version', [{ path: 'version', problem: 'not found' }]);
  return parsed.data;
}

export function idParam(c: Context, name: string): string {
  const parsed = Id.safeParse(c.req.param(name));
  if (!parsed.success) throw new AppError('not_found', `No such ${name.replace(/Id$/, '')}`, [{ path: name, problem: 'not found' }]);
  return parsed.data;
}

/** The admin JSON API: policy versions, consent history, enrollment tokens, devices and the working week. */
export function adminApiRoutes(deps: {
  drafts: PolicyDrafts;
  fleet: FleetAdmin;
  people: Pick<PeopleAdmin, 'workingWeek' | 'setWorkingWeek'>;
  requireUser: RequireUser;
  maxBodyBytes: number;
}) {
  const { drafts, fleet, people, requireUser } = deps;
  const admin = requireUser('admin');
  // Works-council members may hold any role; the drafts service checks who may review.
  const anyone = requireUser();
  const body = (c: Context) => readJson(c, PolicyContent, deps.maxBodyBytes);
  return new Hono<AppEnv>()
    .get(ADMIN_API.policies, anyone, async (c) => c.json(await drafts.list(c.get('user'))))
    .post(ADMIN_API.policies, admin, async (c) => c.json(await drafts.createDraft(c.get('user'), await body(c)), 201))
    .get(ADMIN_API.policy, anyone, async (c) => c.json(await drafts.get(c.get('user'), versionParam(c))))
    .put(ADMIN_API.policy, admin, async (c) => {
      const version = versionParam(c);
      return c.json(await drafts.updateDraft(c.get('user'), version, await body(c)));
    })
    .post(ADMIN_API.submit, admin, async (c) => c.json(await drafts.submit(c.get('user'), versionParam(c))))
    .post(ADMIN_API.reopen, admin, async (c) => c.json(await drafts.reopen(c.get('user'), versionParam(c))))
    .post(ADMIN_API.approve, anyone, async (c) => c.json(await drafts.approve(c.get('user'), versionParam(c))))
    .post(ADMIN_API.publish, admin, async (c) => c.json(await drafts.publish(c.get('user'), versionParam(c))))
    .get(ADMIN_API.consentHistory, admin, async (c) => c.json(await drafts.consentHistory(c.get('user'), idParam(c, 'userId'))))
    .get(ADMIN_API.tokens, admin, async (c) => c.json(await fleet.listTokens(c.get('user'))))
    .post(ADMIN_API.tokens, admin, async (c) => c.json(await fleet.createToken(c.get('user'), await readJson(c, EnrollmentTokenInput, deps.maxBodyBytes)), 201))
    .post(ADMIN_API.revokeToken, admin, async (c) => {
      await fleet.revokeToken(c.get('user'), idParam(c, 'tokenId'));
      return c.body(null, 204);
    })
    .get(ADMIN_API.devices, admin, async (c) => c.json(await fleet.listDevices(c.get('user'), readQuery(c, FleetQuery))))
    .post(ADMIN_API.revokeDevice, admin, async (c) => {
      await fleet.revokeDevice(c.get('user'), idParam(c, 'deviceId'));
      return c.body(null, 204);
    })
    .get(ADMIN_API.workingWeek, admin, async (c) => c.json(await people.workingWeek(c.get('user'))))
    .put(ADMIN_API.workingWeek, admin, async (c) => c.json(await people.setWorkingWeek(c.get('user'), await readJson(c, WorkingWeek, deps.maxBodyBytes))))
    .post(ADMIN_API.assignDevice, admin, async (c) => {
      const deviceId = idParam(c, 'deviceId');
      // The device is looked up before the body is read: another org's admin learns nothing from a validation error.
      await fleet.requireOwnDevice(c.get('user'), deviceId);
      return c.json(await fleet.assignDevice(c.get('user'), deviceId, await readJson(c, DeviceAssignment, deps.maxBodyBytes)));
    });
}
