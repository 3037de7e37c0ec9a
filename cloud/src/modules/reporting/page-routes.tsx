import { Day, defaultDayRange } from '@icarus/shared';
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv, RequireUser } from '../../platform/env';
import type { ReportingService } from './service';
import { OrgReportPage, TeamReportPage } from './pages';

const PageQuery = z.object({ teamId: z.uuid().optional().catch(undefined), from: Day.optional().catch(undefined), to: Day.optional().catch(undefined) });

/** The range a page opens with; a reversed one collapses to its last day (the API refuses it, a page just shows something). */
function defaultRange(today: string, q: { from?: string | undefined; to?: string | undefined }) {
  const { from, to } = defaultDayRange(q, today);
  return from <= to ? { from, to } : { from: to, to };
}

/** Manager and admin pages; they render a frame and read the JSON reports API from the browser. */
export function webRoutes(deps: { reports: ReportingService; requireUser: RequireUser }) {
  return new Hono<AppEnv>()
    .get('/reports', (c) => c.redirect('/reports/team', 303))
    .get('/reports/team', deps.requireUser('manager', 'admin'), async (c) => {
      const user = c.get('user');
      const q = PageQuery.parse(c.req.query());
      const { teams, today } = await deps.reports.teams(user);
      const teamId = teams.some((t) => t.id === q.teamId) ? q.teamId : teams[0]?.id;
      return c.html(<TeamReportPage user={user} teams={teams} teamId={teamId} {...defaultRange(today, q)} />);
    })
    .get('/reports/org', deps.requireUser('admin'), async (c) => {
      const user = c.get('user');
      const q = PageQuery.parse(c.req.query());
      const { today } = await deps.reports.teams(user);
      return c.html(<OrgReportPage user={user} {...defaultRange(today, q)} />);
    });
}
