// The reporting module: team and org reports from the rollups, suppressed below the minimum group size, every view audited.
import { Hono } from 'hono';
import type { AppEnv, RequireUser } from '../../platform/env';
import type { ReportDeps } from './context';
import { createCsvExport } from './export';
import { webRoutes } from './page-routes';
import { reportRoutes } from './routes';
import { createReportingService } from './service';

/** Built from what reports read: the rollup queries, analytics, directory, consent, devices, audit and the access rule. */
export function createReportingModule(deps: ReportDeps) {
  const reportDeps = deps;
  const service = createReportingService(reportDeps);
  const exportCsv = createCsvExport(reportDeps, service);
  return {
    service,
    exportCsv,
    /** What the compliance module builds its coverage and device-health reports from. */
    reportDeps,
    /** `/api/reports/*` (JSON and the CSV export) and the manager pages at `/reports*` with their `/assets`. */
    routes: (options: { requireUser: RequireUser }) =>
      new Hono<AppEnv>()
        .route('/', reportRoutes({ reports: service, exportCsv, requireUser: options.requireUser }))
        .route('/', webRoutes({ reports: service, requireUser: options.requireUser })),
  };
}
export type ReportingModule = ReturnType<typeof createReportingModule>;

export type { ReportingService } from './service';
export type { ReportDeps, PersonalDataAccess } from './context';
export { requireRole } from './context';
export { REPORT_PATHS } from './routes';
export type { ConsentCoverage, DeviceHealth } from './schemas';
export { documentReportsApi } from './openapi';
