import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import type { AppEnv, SignedInUser } from '../env';
import { AppError } from '../errors';
import { complianceCsv } from './compliance-csv';
import { PeriodQuery, type ComplianceReportService } from './compliance-report';
import { AuditQuery, type AuditViewer } from './viewer';

type Role = SignedInUser['role'];

export const AUDIT_API = {
  events: '/api/audit/events',
  exportCsv: '/api/audit/export.csv',
  compliance: '/api/compliance/report',
  complianceCsv: '/api/compliance/report.csv',
} as const;

export function queryOf<S extends z.ZodType>(schema: S, c: Context): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw AppError.fromZod(parsed.error, 'query');
  return parsed.data;
}

export function csvResponse(text: string, filename: string): Response {
  return new Response(text, {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"`, 'cache-control': 'no-store' },
  });
}

/** The audit log and compliance report as JSON and CSV, for admins and auditors. */
export function auditApiRoutes(deps: { viewer: AuditViewer; report: ComplianceReportService; requireUser: (...roles: Role[]) => MiddlewareHandler<AppEnv> }) {
  const readers = deps.requireUser('admin', 'auditor');
  return new Hono<AppEnv>()
    .get(AUDIT_API.events, readers, async (c) => c.json(await deps.viewer.page(c.get('user'), queryOf(AuditQuery, c))))
    .get(AUDIT_API.exportCsv, readers, async (c) => csvResponse(await deps.viewer.exportCsv(c.get('user'), queryOf(AuditQuery, c)), 'audit-log.csv'))
    .get(AUDIT_API.compliance, readers, async (c) => c.json(await deps.report.build(c.get('user'), queryOf(PeriodQuery, c))))
    .get(AUDIT_API.complianceCsv, readers, async (c) => {
      const report = await deps.report.build(c.get('user'), queryOf(PeriodQuery, c));
      return csvResponse(complianceCsv(report), `compliance-${report.period.from}-to-${report.period.to}.csv`);
    });
}
