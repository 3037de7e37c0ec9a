// The reporting module: team and org reports from the rollups, suppressed below the minimum group size, every view audited.
import { Hono } from 'hono';
import type { AppEnv, RequireUser } from '../../platform/env';
import type { ReportDeps } from './context';
import type { Logger } from 'pino';
import type { Database } from '../../platform/db/client';
import type { ObjectStore } from '../../platform/object-store';
import { createCsvExport } from './export';
import { createExportJobs } from './export-jobs';
import { webRoutes } from './page-routes';
import { reportRoutes } from './routes';
import { createReportingService } from './service';

/** Built from what reports read: the rollup queries, analytics, directory, consent, devices, audit and the access rule. */
export function createReportingModule(deps: ReportDeps, jobDeps: { database: Database; objects: ObjectStore; logger?: Logger; maxBodyBytes: number }) {
  const reportDeps = deps;
  const service = createReportingService(reportDeps);
  const exportCsv = createCsvExport(reportDeps, service);
  const exportJobs = createExportJobs({ database: jobDeps.database, objects: jobDeps.objects, reports: service, exportCsv, logger: jobDeps.logger });
  return {
    service,
    exportCsv,
    /** Large exports as background jobs (worker role: start/stop; scheduler role: jobs.schedule). */
    exportJobs,
    start: () => exportJobs.start(),
    stop: () => exportJobs.stop(),
    jobs: { schedule: exportJobs.schedule },
    /** What the compliance module builds its coverage and device-health reports from. */
    reportDeps,
    /** `/api/reports/*` (JSON and the CSV export) and the manager pages at `/reports*` with their `/assets`. */
    routes: (options: { requireUser: RequireUser }) =>
      new Hono<AppEnv>()
        .route('/', reportRoutes({ reports: service, exportCsv, exportJobs, requireUser: options.requireUser, maxBodyBytes: jobDeps.maxBodyBytes }))
        .route('/', webRoutes({ reports: service, requireUser: options.requireUser })),
  };
}
export type ReportingModule = ReturnType<typeof createReportingModule>;

export type { ReportingService } from './service';
export type { ReportDeps, PersonalDataAccess } from './context';
export { requireRole } from './context';
export { REPORT_PATHS } from './routes';
export { exportRunsInline, INLINE_EXPORT_MAX_DAYS, type ExportJobs, type ExportJobView } from './export-jobs';
export type { ConsentCoverage, DeviceHealth } from './schemas';
export { documentReportsApi } from './openapi';
