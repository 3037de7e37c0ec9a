import { Hono } from 'hono';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { PolicyPage } from './policy-page';
import type { ConsentService } from './service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Public on purpose: every receipt links here, and a notice must be readable by those it concerns. */
export function policyPageRoutes(consent: ConsentService) {
  return new Hono<AppEnv>().get('/privacy/policy/:orgId/:version', async (c) => {
    const version = Number(c.req.param('version'));
    const orgId = c.req.param('orgId');
    const policy = Number.isInteger(version) && UUID.test(orgId) ? await consent.policyVersion(orgId, version) : undefined;
    if (!policy) throw new AppError('not_found', 'No such published policy version');
    return c.html(<PolicyPage policy={policy} />);
  });
}
