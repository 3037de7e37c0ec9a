import { Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv, SignedInUser, RequireUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { AuditPage } from './pages';
import { AuditQuery, type AuditViewer } from './viewer';

/** The audit viewer, for admins and auditors. */
export function auditPageRoutes(deps: { viewer: AuditViewer; requireUser: RequireUser }) {
  const readers = deps.requireUser('admin', 'auditor');
  return new Hono<AppEnv>().get('/audit', readers, async (c) => {
    const user = c.get('user');
    const { checkpoint: supplied = '', ...raw } = c.req.query();
    const checkpoint = await deps.viewer.checkpoint(user);
    const shown = { user, query: raw, checkpoint, supplied };
    try {
      // A pasted checkpoint is held against the chain too; one that is not ours is a 400 naming it.
      const chain = await deps.viewer.verify(user, supplied === '' ? undefined : supplied);
      const filters = AuditQuery.safeParse(raw);
      if (!filters.success) throw AppError.fromZod(filters.error, 'query');
      const page = await deps.viewer.page(user, filters.data);
      return c.html(<AuditPage {...shown} events={page.events} nextBefore={page.nextBefore} chain={chain} />);
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      c.status(400);
      return c.html(<AuditPage {...shown} events={[]} nextBefore={null} chain={null} error={error.message} fields={error.fields} />);
    }
  });
}
