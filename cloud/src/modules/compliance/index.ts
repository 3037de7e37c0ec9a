// The compliance module: consent coverage, device health and the compliance report (JSON, CSV, printable).
import type { RequireUser } from '../../platform/env';
import type { AuditService } from '../audit';
import type { ConsentService } from '../consent';
import type { DirectoryService } from '../directory';
import type { ReportDeps, ReportingService } from '../reporting';
import { createComplianceReports } from './coverage';
import { createComplianceReport } from './report';
import { complianceRoutes } from './routes';
import type { PackProcessor } from './pack';
import { createCompliancePacks } from './pack-service';
import { createNoticeAcknowledgments } from './acknowledgments';
import type { Database } from '../../platform/db/client';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { deviceNoticeRoutes } from './notice-routes';
import type { AppEnv } from '../../platform/env';

export function createComplianceModule(deps: {
  database: Database;
  reportDeps: ReportDeps;
  reports: ReportingService;
  consent: ConsentService;
  directory: DirectoryService;
  audit: AuditService;
  /** The services the configuration sends personal data to (mail, object storage…), for the record of processing. */
  processors: readonly PackProcessor[];
}) {
  const coverage = createComplianceReports({ ...deps.reportDeps, viewed: deps.reports.viewed });
  const report = createComplianceReport({ compliance: coverage, consent: deps.consent, directory: deps.directory, audit: deps.audit });
  const packs = createCompliancePacks({ consent: deps.consent, directory: deps.directory, processors: deps.processors });
  const acknowledgments = createNoticeAcknowledgments({ database: deps.database, consent: deps.consent, directory: deps.directory, audit: deps.audit });
  const timeZoneOf = async (orgId: string) => (await deps.directory.findOrg(orgId))?.timeZone ?? 'UTC';
  return {
    coverage,
    report,
    packs,
    acknowledgments,
    /** `/api/compliance/report(.csv)`, `/api/reports/consent-coverage`, `/api/reports/device-health`, the `/audit/compliance` page, and the compliance pack at `/audit/compliance/pack` (page, Markdown, diff), the acknowledgments CSV, and the employee's notice at `/me/data/notice` and on the device (`/v1/notice`, `/v1/notice/acknowledgment`). */
    routes: (options: {
      requireUser: RequireUser;
      csrfOf: (c: Context<AppEnv>) => Promise<string>;
      deviceAuth: MiddlewareHandler<AppEnv>;
      maxBodyBytes: number;
    }) =>
      new Hono<AppEnv>()
        .route('/', complianceRoutes({ report, coverage, packs, acknowledgments, timeZoneOf, csrfOf: options.csrfOf, requireUser: options.requireUser }))
        .route('/', deviceNoticeRoutes({ packs, acknowledgments, deviceAuth: options.deviceAuth, maxBodyBytes: options.maxBodyBytes })),
  };
}
export type ComplianceModule = ReturnType<typeof createComplianceModule>;

export { COMPLIANCE_API } from './routes';
export type { ComplianceReport } from './report';
export type { PackProcessor, CompliancePack } from './pack';
export { buildCompliancePack, packMarkdown, diffPacks } from './pack';
export type { ComplianceReports } from './coverage';
export { documentComplianceApi } from './openapi';
export { processorsFromConfig } from './processors';
