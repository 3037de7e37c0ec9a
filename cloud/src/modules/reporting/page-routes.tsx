import { Day, defaultDayRange } from '@icarus/shared';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AppEnv, RequireUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { rangeProblemText } from './context';
import type { ReportingService } from './service';
import { OrgReportPage, PersonPage, TeamAppsPage, TeamPeoplePage, TeamReportPage } from './pages';
import { presetsFor } from './presets';

const Text = z.string().min(1).max(200).optional().catch(undefined);
const PageQuery = z.object({
  teamId: z.uuid().optional().catch(undefined),
  userId: z.uuid().optional().catch(undefined),
  from: Day.optional().catch(undefined),
  to: Day.optional().catch(undefined),
  compare: z.literal('previous').optional().catch(undefined),
  category: Text,
  app: Text,
});

/**
 * The range a page shows, as asked: a reversed or too long range is kept (the form shows what
 * was typed) and the page says what is wrong instead of loading a report.
 */
async function pageRange(c: Context<AppEnv>, reports: ReportingService) {
  const q = PageQuery.parse(c.req.query());
  const { teams, today } = await reports.teams(c.get('user'));
  const { from, to } = defaultDayRange(q, today);
  return { q, teams, from, to, problem: rangeProblemText(from, to)?.message, presets: presetsFor(today) };
}

/** Manager and admin pages; they render a frame and read the JSON reports API from the browser. */
export function webRoutes(deps: { reports: ReportingService; requireUser: RequireUser }) {
  const { reports } = deps;
  const teamReaders = deps.requireUser('manager', 'admin');
  /** The team a drill-down page is about: one the reader may report on, or 404. */
  const teamNamed = (teams: { id: string; name: string }[], teamId: string | undefined) => {
    const team = teams.find((t) => t.id === teamId);
    if (!team) throw new AppError('not_found', 'No such team among the teams you may report on');
    return team;
  };
  return new Hono<AppEnv>()
    .get('/reports', (c) => c.redirect('/reports/team', 303))
    .get('/reports/team', teamReaders, async (c) => {
      const { q, teams, ...range } = await pageRange(c, reports);
      const teamId = teams.some((t) => t.id === q.teamId) ? q.teamId : teams[0]?.id;
      return c.html(<TeamReportPage user={c.get('user')} teams={teams} teamId={teamId} compare={q.compare === 'previous'} {...range} />);
    })
    .get('/reports/team/apps', teamReaders, async (c) => {
      const { q, teams, ...range } = await pageRange(c, reports);
      const team = teamNamed(teams, q.teamId);
      return c.html(<TeamAppsPage user={c.get('user')} teamId={team.id} teamName={team.name} category={q.category} app={q.app} {...range} />);
    })
    .get('/reports/team/people', teamReaders, async (c) => {
      const { q, teams, ...range } = await pageRange(c, reports);
      const team = teamNamed(teams, q.teamId);
      return c.html(<TeamPeoplePage user={c.get('user')} teamId={team.id} teamName={team.name} {...range} />);
    })
    .get('/reports/person', teamReaders, async (c) => {
      const { q, teams, ...range } = await pageRange(c, reports);
      if (!q.userId) throw new AppError('validation_failed', 'Which person? The link names no one', [{ path: 'userId', problem: 'required' }]);
      const teamId = teams.some((t) => t.id === q.teamId) ? q.teamId : undefined;
      return c.html(<PersonPage user={c.get('user')} userId={q.userId} teamId={teamId} {...range} />);
    })
    .get('/reports/org', deps.requireUser('admin'), async (c) => {
      const { from, to, problem, presets } = await pageRange(c, reports);
      return c.html(<OrgReportPage user={c.get('user')} from={from} to={to} problem={problem} presets={presets} />);
    });
}
