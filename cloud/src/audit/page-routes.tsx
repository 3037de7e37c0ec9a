import { Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv, SignedInUser } from '../env';
import { AppError } from '../errors';
import { PeriodQuery, type ComplianceReportService } from './compliance-report';
import { AuditPage, CompliancePage } from './pages';
import { readQuery } from '../gateway/http';
import { AuditQuery, type AuditViewer } from './viewer';

type Role = SignedInUser['role'];

/** The audit viewer and the printable compliance report, for admins and auditors. */
export function auditPageRoutes(deps: { viewer: AuditViewer; report: ComplianceReportService; requireUser: (...roles: Role[]) => MiddlewareHandler<AppEnv> }) {
  const readers = deps.requireUser('admin', 'auditor');
  return new Hono<AppEnv>()
    .get('/audit', readers, async (c) => {
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
    })
    .get('/audit/compliance', readers, async (c) => c.html(<CompliancePage user={c.get('user')} report={await deps.report.build(c.get('user'), readQuery(c, PeriodQuery))} />));
}
