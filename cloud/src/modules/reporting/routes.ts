import { Readable } from 'node:stream';
import { Hono } from 'hono';
import type { AppEnv, RequireUser } from '../../platform/env';
import { readQuery } from '../../platform/http/query';
import { csvResponse, readCsvQuery } from '../../platform/http/csv';
import { readJson } from '../../platform/http/body';
import { AppError } from '../../platform/errors';
import { requireRole } from './context';
import { exportRunsInline, INLINE_EXPORT_MAX_DAYS, type ExportJobs } from './export-jobs';
import { ExportJobId, ExportQuery, PersonRangeQuery, RangeQuery, TeamAppsQuery, TeamQuery, TeamRangeQuery } from './schemas';
import type { ReportingService } from './service';

export const REPORT_PATHS = {
  teams: '/api/reports/teams',
  teamSummary: '/api/reports/team-summary',
  teamTrend: '/api/reports/team-trend',
  orgTrend: '/api/reports/org-trend',
  teamComparison: '/api/reports/team-comparison',
  teamApps: '/api/reports/team-apps',
  teamPeople: '/api/reports/team-people',
  person: '/api/reports/person',
  consentCoverage: '/api/reports/consent-coverage',
  deviceHealth: '/api/reports/device-health',
  exportCsv: '/api/reports/export.csv',
  exportJobs: '/api/reports/exports',
  exportJob: '/api/reports/exports/:id',
  exportDownload: '/api/reports/exports/:id/download',
} as const;

/** Reports API: JSON for the pages and for anyone with a session; CSV export streamed. */
export function reportRoutes(deps: {
  reports: ReportingService;
  exportCsv: ReturnType<typeof import('./export').createCsvExport>;
  exportJobs: ExportJobs;
  requireUser: RequireUser;
  maxBodyBytes: number;
}) {
  const { reports, requireUser } = deps;
  const teamReaders = requireUser('manager', 'admin');
  return (
    new Hono<AppEnv>()
      .get(REPORT_PATHS.teams, teamReaders, async (c) => c.json(await reports.teams(c.get('user'))))
      .get(REPORT_PATHS.teamSummary, teamReaders, async (c) => c.json(await reports.teamSummary(c.get('user'), readQuery(c, TeamRangeQuery))))
      .get(REPORT_PATHS.teamApps, teamReaders, async (c) => c.json(await reports.teamApps(c.get('user'), readQuery(c, TeamAppsQuery))))
      .get(REPORT_PATHS.teamPeople, teamReaders, async (c) => c.json(await reports.teamPeople(c.get('user'), readQuery(c, TeamQuery))))
      .get(REPORT_PATHS.teamTrend, teamReaders, async (c) => c.json(await reports.teamTrend(c.get('user'), readQuery(c, TeamRangeQuery))))
      .get(REPORT_PATHS.orgTrend, requireUser('admin'), async (c) => c.json(await reports.orgTrend(c.get('user'), readQuery(c, RangeQuery))))
      .get(REPORT_PATHS.teamComparison, requireUser('admin'), async (c) => c.json(await reports.teamComparison(c.get('user'), readQuery(c, RangeQuery))))
      // Everyone may read their own detail; the service applies the policy and consent for others.
      .get(REPORT_PATHS.person, requireUser(), async (c) => c.json(await reports.personDetail(c.get('user'), readQuery(c, PersonRangeQuery))))
      .get(REPORT_PATHS.exportCsv, teamReaders, async (c) => {
        const log = c.get('log');
        const { query, bom } = readCsvQuery(c, ExportQuery);
        if (!exportRunsInline(query)) {
          // Access first (a manager is told they may not, not where to ask), then where to ask.
          if (query.teamId === undefined) requireRole(c.get('user'), 'admin');
          else await reports.teamOf(c.get('user'), query.teamId);
          throw new AppError(
            'conflict',
            `An export of the whole organisation or of more than ${INLINE_EXPORT_MAX_DAYS} days is prepared in the background: POST ${REPORT_PATHS.exportJobs}`,
          );
        }
        const { filename, body } = await deps.exportCsv(c.get('user'), query, (err) =>
          log.error({ err }, 'export.csv aborted after its first byte: the client sees a broken transfer'),
        );
        return csvResponse(body, filename, { bom });
      })
      // Large exports: asked for here, written by a worker, downloaded by the one who asked.
      .post(REPORT_PATHS.exportJobs, teamReaders, async (c) =>
        c.json(await deps.exportJobs.request(c.get('user'), await readJson(c, ExportQuery, deps.maxBodyBytes)), 202),
      )
      .get(REPORT_PATHS.exportJobs, teamReaders, async (c) => c.json({ exports: await deps.exportJobs.list(c.get('user')) }))
      .get(REPORT_PATHS.exportJob, teamReaders, async (c) => c.json(await deps.exportJobs.status(c.get('user'), ExportJobId.parse(c.req.param('id')))))
      .get(REPORT_PATHS.exportDownload, teamReaders, async (c) => {
        const { filename, body, size } = await deps.exportJobs.download(c.get('user'), ExportJobId.parse(c.req.param('id')));
        return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-length': String(size),
            'content-disposition': `attachment; filename="${filename}"`,
            'cache-control': 'private, no-store',
          },
        });
      })
  );
}
