import { Day, defaultDayRange } from '@icarus/shared';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv, RequireUser } from '../../platform/env';
import type { ReportingService } from './service';
import { OrgReportPage, TeamReportPage } from './pages';

const PageQuery = z.object({ teamId: z.uuid().optional().catch(undefined), from: Day.optional().catch(undefined), to: Day.optional().catch(undefined) });

/** Static files served from installed packages and this folder (no CDN), read once on first use. */
function assets() {
  const require = createRequire(import.meta.url);
  const files: Record<string, { path: string; type: string }> = {
    'uplot.min.js': { path: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    'uplot.min.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
    'report.js': { path: new URL('../../ui/assets/report.js', import.meta.url).pathname, type: 'text/javascript; charset=utf-8' },
  };
  const cache = new Map<string, Promise<Buffer>>();
  return (name: string) => {
    const file = files[name];
    if (!file) return undefined;
    let body = cache.get(name);
    if (!body) {
      body = readFile(file.path);
      cache.set(name, body);
    }
    return body.then((b) => ({ body: b, type: file.type }));
  };
}

/** The range a page opens with; a reversed one collapses to its last day (the API refuses it, a page just shows something). */
function defaultRange(today: string, q: { from?: string | undefined; to?: string | undefined }) {
  const { from, to } = defaultDayRange(q, today);
  return from <= to ? { from, to } : { from: to, to };
}

/** Manager and admin pages; they render a frame and read the JSON reports API from the browser. */
export function webRoutes(deps: { reports: ReportingService; requireUser: RequireUser }) {
  const asset = assets();
  return new Hono<AppEnv>()
    .get('/assets/:name', async (c) => {
      const found = await asset(c.req.param('name'));
      if (!found) return c.notFound();
      return c.body(new Uint8Array(found.body), 200, { 'content-type': found.type, 'cache-control': 'public, max-age=3600' });
    })
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
