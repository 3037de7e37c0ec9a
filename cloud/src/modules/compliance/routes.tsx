import { Hono } from 'hono';
import type { AppEnv, RequireUser } from '../../platform/env';
import { csvResponse, readCsvQuery } from '../../platform/http/csv';
import { readQuery } from '../../platform/http/query';
import { REPORT_PATHS } from '../reporting';
import type { ComplianceReports } from './coverage';
import { complianceCsv } from './csv';
import { CompliancePage } from './pages';
import { PeriodQuery, type ComplianceReportService } from './report';

export const COMPLIANCE_API = {
  report: '/api/compliance/report',
  reportCsv: '/api/compliance/report.csv',
} as const;

/** The compliance report (JSON, CSV, printable page), consent coverage and device health, for admins and auditors. */
export function complianceRoutes(deps: { report: ComplianceReportService; coverage: ComplianceReports; requireUser: RequireUser }) {
  const readers = deps.requireUser('admin', 'auditor');
  return new Hono<AppEnv>()
    .get(COMPLIANCE_API.report, readers, async (c) => c.json(await deps.report.build(c.get('user'), readQuery(c, PeriodQuery))))
    .get(COMPLIANCE_API.reportCsv, readers, async (c) => {
      const { query, bom } = readCsvQuery(c, PeriodQuery);
      const report = await deps.report.build(c.get('user'), query);
      return csvResponse(complianceCsv(report), `compliance-${report.period.from}-to-${report.period.to}.csv`, { bom });
    })
    .get(REPORT_PATHS.consentCoverage, readers, async (c) => c.json(await deps.coverage.consentCoverage(c.get('user'))))
    .get(REPORT_PATHS.deviceHealth, deps.requireUser('admin'), async (c) => c.json(await deps.coverage.deviceHealth(c.get('user'))))
    .get('/audit/compliance', readers, async (c) =>
      c.html(<CompliancePage user={c.get('user')} report={await deps.report.build(c.get('user'), readQuery(c, PeriodQuery))} />),
    );
}
