// Admins make, list and revoke SCIM connections (the token shown once) and choose what happens to
// a deprovisioned person's data: the JSON API under /api/admin/provisioning and the page /admin/provisioning.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AppEnv, RequireUser, SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readForm, readJson } from '../../platform/http/body';
import { ProvisioningPage, type PageState } from './pages';
import { SCIM_BASE } from './routes';
import type { ProvisioningService } from './service';

export const PROVISIONING_API = {
  connections: '/api/admin/provisioning/connections',
  revoke: '/api/admin/provisioning/connections/:connectionId/revoke',
  settings: '/api/admin/provisioning/settings',
} as const;

export const ConnectionInput = z.strictObject({ name: z.string().trim().min(1, 'is empty').max(100, 'is longer than 100 characters') });
export const SettingsInput = z.strictObject({ deprovisionedData: z.enum(['keep', 'erase']) });

const admin = (user: SignedInUser) => ({ userId: user.userId, orgId: user.orgId });

function connectionId(c: Context): string {
  const parsed = z.uuid().safeParse(c.req.param('connectionId'));
  if (!parsed.success) throw new AppError('not_found', 'No such live SCIM connection in this organisation', [{ path: 'connectionId', problem: 'not found' }]);
  return parsed.data;
}

export function provisioningAdminRoutes(deps: {
  service: ProvisioningService;
  requireUser: RequireUser;
  csrfOf: (c: Context<AppEnv>) => Promise<string>;
  publicUrl: () => string;
  maxBodyBytes: number;
}) {
  const { service } = deps;
  const onlyAdmin = deps.requireUser('admin');
  const scimUrl = () => `${deps.publicUrl()}${SCIM_BASE}`;

  async function page(c: Context<AppEnv>, state: PageState = {}) {
    const user = c.get('user');
    const [connections, deprovisionedData] = await Promise.all([service.connections(admin(user)), service.deprovisionedData(admin(user))]);
    return c.html(
      <ProvisioningPage
        user={user}
        csrf={await deps.csrfOf(c)}
        scimUrl={scimUrl()}
        connections={connections}
        deprovisionedData={deprovisionedData}
        {...state}
      />,
    );
  }

  const formValue = async (c: Context, name: string) => {
    const value = (await readForm(c))[name];
    return typeof value === 'string' ? value : '';
  };

  return new Hono<AppEnv>()
    .get(PROVISIONING_API.connections, onlyAdmin, async (c) => c.json({ scimUrl: scimUrl(), connections: await service.connections(admin(c.get('user'))) }))
    .post(PROVISIONING_API.connections, onlyAdmin, async (c) => {
      const input = await readJson(c, ConnectionInput, deps.maxBodyBytes);
      return c.json({ ...(await service.createConnection(admin(c.get('user')), input.name)), scimUrl: scimUrl() }, 201);
    })
    .post(PROVISIONING_API.revoke, onlyAdmin, async (c) => {
      await service.revokeConnection(admin(c.get('user')), connectionId(c));
      return c.body(null, 204);
    })
    .get(PROVISIONING_API.settings, onlyAdmin, async (c) => c.json({ deprovisionedData: await service.deprovisionedData(admin(c.get('user'))) }))
    .put(PROVISIONING_API.settings, onlyAdmin, async (c) => {
      const input = await readJson(c, SettingsInput, deps.maxBodyBytes);
      await service.setDeprovisionedData(admin(c.get('user')), input.deprovisionedData);
      return c.json(input);
    })
    .get('/admin/provisioning', onlyAdmin, async (c) =>
      page(c, { info: c.req.query('done') === 'revoked' ? 'Revoked: the identity provider can no longer use that token.' : undefined }),
    )
    .post('/admin/provisioning/connections', onlyAdmin, async (c) => {
      const parsed = ConnectionInput.safeParse({ name: await formValue(c, 'name') });
      if (!parsed.success) {
        const error = AppError.fromZod(parsed.error, 'form');
        c.status(400);
        return page(c, { error: 'Nothing was made. Please correct:', fields: error.fields });
      }
      const created = await service.createConnection(admin(c.get('user')), parsed.data.name);
      c.status(201);
      return page(c, { created });
    })
    .post('/admin/provisioning/connections/:connectionId/revoke', onlyAdmin, async (c) => {
      await service.revokeConnection(admin(c.get('user')), connectionId(c));
      return c.redirect('/admin/provisioning?done=revoked', 303);
    })
    .post('/admin/provisioning/settings', onlyAdmin, async (c) => {
      const parsed = SettingsInput.safeParse({ deprovisionedData: await formValue(c, 'deprovisionedData') });
      if (!parsed.success) {
        c.status(400);
        return page(c, { error: 'Nothing was saved. Please correct:', fields: AppError.fromZod(parsed.error, 'form').fields });
      }
      await service.setDeprovisionedData(admin(c.get('user')), parsed.data.deprovisionedData);
      return page(c, {
        info:
          parsed.data.deprovisionedData === 'erase'
            ? 'Saved: a deprovisioned person’s activity data will be erased.'
            : 'Saved: a deprovisioned person’s activity data will be kept (under the policy’s retention).',
      });
    });
}
