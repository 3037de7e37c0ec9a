// The compliance module: consent coverage, device health and the compliance report (JSON, CSV, printable).
import type { RequireUser } from '../../platform/env';
import type { AuditService } from '../audit';
import type { ConsentService } from '../consent';
import type { DirectoryService } from '../directory';
import type { ReportDeps, ReportingService } from '../reporting';
import { createComplianceReports } from './coverage';
import { createComplianceReport } from './report';
import { complianceRoutes } from './routes';

export function createComplianceModule(deps: {
  reportDeps: ReportDeps;
  reports: ReportingService;
  consent: ConsentService;
  directory: DirectoryService;
  audit: AuditService;
}) {
  const coverage = createComplianceReports({ ...deps.reportDeps, viewed: deps.reports.viewed });
  const report = createComplianceReport({ compliance: coverage, consent: deps.consent, directory: deps.directory, audit: deps.audit });
  return {
    coverage,
    report,
    /** `/api/compliance/report(.csv)`, `/api/reports/consent-coverage`, `/api/reports/device-health` and the `/audit/compliance` page. */
    routes: (options: { requireUser: RequireUser }) => complianceRoutes({ report, coverage, requireUser: options.requireUser }),
  };
}
export type ComplianceModule = ReturnType<typeof createComplianceModule>;

export { COMPLIANCE_API } from './routes';
export type { ComplianceReport } from './report';
export type { ComplianceReports } from './coverage';
export { documentComplianceApi } from './openapi';
