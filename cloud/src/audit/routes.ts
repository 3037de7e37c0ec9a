import { Hono } from 'hono';
import type { AppEnv, RequireUser } from '../env';
import { csvResponse, readQuery } from '../gateway/http';
import { complianceCsv } from './compliance-csv';
import { PeriodQuery, type ComplianceReportService } from './compliance-report';
import { AuditQuery, type AuditViewer } from './viewer';

export const AUDIT_API = {
  events: '/api/audit/events',
  exportCsv: '/api/audit/export.csv',
  compliance: '/api/compliance/report',
  complianceCsv: '/api/compliance/report.csv',
} as const;

/** The audit log and compliance report as JSON and CSV, for admins and auditors. */
export function auditApiRoutes(deps: { viewer: AuditViewer; report: ComplianceReportService; requireUser: RequireUser }) {
  const readers = deps.requireUser('admin', 'auditor');
  return new Hono<AppEnv>()
    .get(AUDIT_API.events, readers, async (c) => c.json(await deps.viewer.page(c.get('user'), readQuery(c, AuditQuery))))
    .get(AUDIT_API.exportCsv, readers, async (c) => csvResponse(await deps.viewer.exportCsv(c.get('user'), readQuery(c, AuditQuery)), 'audit-log.csv'))
    .get(AUDIT_API.compliance, readers, async (c) => c.json(await deps.report.build(c.get('user'), readQuery(c, PeriodQuery))))
    .get(AUDIT_API.complianceCsv, readers, async (c) => {
      const report = await deps.report.build(c.get('user'), readQuery(c, PeriodQuery));
      return csvResponse(complianceCsv(report), `compliance-${report.period.from}-to-${report.period.to}.csv`);
    });
}
