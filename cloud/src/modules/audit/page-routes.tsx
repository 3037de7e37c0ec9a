import { Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv, SignedInUser, RequireUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { AuditPage } from './pages';
import { readQuery } from '../../platform/http/query';
import { AuditQuery, type AuditViewer } from './viewer';

/** The audit viewer, for admins and auditors. */
export function auditPageRoutes(deps: { viewer: AuditViewer; requireUser: RequireUser }) {
  const readers = deps.requireUser('admin', 'auditor');
  return new Hono<AppEnv>().get('/audit', readers, async (c) => {
    const user = c.get('user');
    const raw = c.req.query();
    const chain = await deps.viewer.verify(user);
    try {
      const page = await deps.viewer.page(user, readQuery(c, AuditQuery));
      return c.html(<AuditPage user={user} query={raw} events={page.events} nextBefore={page.nextBefore} chain={chain} />);
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      c.status(400);
      return c.html(<AuditPage user={user} query={raw} events={[]} nextBefore={null} chain={chain} error={error.message} fields={error.fields} />);
    }
  });
}
