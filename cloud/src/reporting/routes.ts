import { Hono, type MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import type { AppEnv, SignedInUser } from '../env';
import { AppError } from '../errors';
import type { ComplianceReports } from './compliance';
import { ExportQuery, PersonRangeQuery, RangeQuery, TeamRangeQuery } from './schemas';
import type { ReportingService } from './service';

type Role = SignedInUser['role'];

export const REPORT_PATHS = {
  teams: '/api/reports/teams',
  teamSummary: '/api/reports/team-summary',
  teamTrend: '/api/reports/team-trend',
  orgTrend: '/api/reports/org-trend',
  teamComparison: '/api/reports/team-comparison',
  person: '/api/reports/person',
  consentCoverage: '/api/reports/consent-coverage',
  deviceHealth: '/api/reports/device-health',
  exportCsv: '/api/reports/export.csv',
} as const;

function query<S extends z.ZodType>(schema: S, raw: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw AppError.fromZod(parsed.error, 'query');
  return parsed.data;
}

/** Reports API: JSON for the pages and for anyone with a session; CSV export streamed. */
export function reportRoutes(deps: {
  reports: ReportingService;
  compliance: ComplianceReports;
  exportCsv: ReturnType<typeof import('./export').createCsvExport>;
  requireUser: (...roles: Role[]) => MiddlewareHandler<AppEnv>;
}) {
  const { reports, compliance, requireUser } = deps;
  const teamReaders = requireUser('manager', 'admin');
  return new Hono<AppEnv>()
    .get(REPORT_PATHS.teams, teamReaders, async (c) => c.json(await reports.teams(c.get('user'))))
    .get(REPORT_PATHS.teamSummary, teamReaders, async (c) => c.json(await reports.teamSummary(c.get('user'), query(TeamRangeQuery, c.req.query()))))
    .get(REPORT_PATHS.teamTrend, teamReaders, async (c) => c.json(await reports.teamTrend(c.get('user'), query(TeamRangeQuery, c.req.query()))))
    .get(REPORT_PATHS.orgTrend, requireUser('admin'), async (c) => c.json(await reports.orgTrend(c.get('user'), query(RangeQuery, c.req.query()))))
    .get(REPORT_PATHS.teamComparison, requireUser('admin'), async (c) =>
      c.json(await reports.teamComparison(c.get('user'), query(RangeQuery, c.req.query()))),
    )
    // Everyone may read their own detail; the service applies the policy and consent for others.
    .get(REPORT_PATHS.person, requireUser(), async (c) => c.json(await reports.personDetail(c.get('user'), query(PersonRangeQuery, c.req.query()))))
    .get(REPORT_PATHS.consentCoverage, requireUser('admin', 'auditor'), async (c) => c.json(await compliance.consentCoverage(c.get('user'))))
    .get(REPORT_PATHS.deviceHealth, requireUser('admin'), async (c) => c.json(await compliance.deviceHealth(c.get('user'))))
    .get(REPORT_PATHS.exportCsv, teamReaders, async (c) => {
      const { filename, body } = await deps.exportCsv(c.get('user'), query(ExportQuery, c.req.query()));
      return new Response(body, {
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${filename}"`,
          'cache-control': 'no-store',
        },
      });
    });
}
