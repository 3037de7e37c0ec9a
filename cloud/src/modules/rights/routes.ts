import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { CALENDAR_PROBLEM, isInCalendar } from '@icarus/shared';
import type { AppEnv, RequireUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readJson } from '../../platform/http/body';
import { readQuery } from '../../platform/http/query';
import { readCsvQuery, withBom } from '../../platform/http/csv';
import { exportStream } from './export';
import type { Principal, RightsService } from './service';

// Year 0 is no PostgreSQL timestamp: an instant outside the calendar is refused, named, not sent to the query.
const QueryInstant = z.iso.datetime({ offset: true }).refine(isInCalendar, CALENDAR_PROBLEM);
export const SpansQuery = z.strictObject({
  from: QueryInstant.optional(),
  to: QueryInstant.optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
export const ExportFormatQuery = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });
export const ErasureBody = z.strictObject({
  /** Also wipe what the person's devices still hold locally (an erase_local directive). */
  eraseLocal: z.boolean().default(false),
});

/** The same five paths for the agent (device bearer, /v1/me) and the web (session, /api/me). */
export const RIGHTS_PATHS = {
  device: { spans: '/v1/me/spans', viewers: '/v1/me/viewers', export: '/v1/me/export', erasure: '/v1/me/erasure', erasures: '/v1/me/erasures' },
  web: { spans: '/api/me/spans', viewers: '/api/me/viewers', export: '/api/me/export', erasure: '/api/me/erasure', erasures: '/api/me/erasures' },
} as const;

function webPrincipal(c: Context<AppEnv>): Principal {
  const user = c.get('user');
  return { orgId: user.orgId, userId: user.userId, via: 'web', actorType: 'user', actorId: user.userId };
}

function devicePrincipal(c: Context<AppEnv>): Principal {
  const device = c.get('device');
  // Only a binding proven by the person (pairing code) or by IT says whose data this is; the
  // OS account the device enrolled under never does.
  if (!device.userId || !device.bindingId) {
    throw new AppError(
      'device_unbound',
      "This device is not bound to a person, so it can read no one's data: pair it with a code from My data → Pair a computer, or ask IT to assign it",
      [{ path: 'device', problem: 'not bound to a person' }],
    );
  }
  return { orgId: device.orgId, userId: device.userId, via: 'device', actorType: 'device', actorId: device.deviceId };
}

function routesFor(
  paths: (typeof RIGHTS_PATHS)['web' | 'device'],
  guard: MiddlewareHandler<AppEnv>,
  principal: (c: Context<AppEnv>) => Principal,
  rights: RightsService,
  maxBodyBytes: number,
) {
  return new Hono<AppEnv>()
    .get(paths.spans, guard, async (c) => {
      const q = readQuery(c, SpansQuery);
      const to = q.to ? new Date(q.to) : new Date();
      const from = q.from ? new Date(q.from) : new Date(to.getTime() - 86_400_000);
      if (from > to) throw new AppError('validation_failed', 'Invalid query: from must not be after to', [{ path: 'from', problem: 'after to' }]);
      const spans = await rights.spans(principal(c), { from, to }, q.limit);
      return c.json({ from: from.toISOString(), to: to.toISOString(), spans, truncated: spans.length === q.limit });
    })
    .get(paths.viewers, guard, async (c) => c.json({ viewers: await rights.viewers(principal(c)) }))
    .get(paths.export, guard, async (c) => {
      const { query, bom } = readCsvQuery(c, ExportFormatQuery);
      const { format } = query;
      const who = principal(c);
      const header = { person: { userId: who.userId, orgId: who.orgId }, generatedAt: new Date().toISOString(), viewers: await rights.viewers(who) };
      const day = new Date().toISOString().slice(0, 10);
      const body = exportStream(format, header, rights.allSpans(who, format));
      // The byte order mark is for spreadsheets: asked of the JSON export, it is left out.
      return new Response(format === 'csv' && bom ? withBom(body) : body, {
        headers: {
          'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
          'content-disposition': `attachment; filename="my-data-${day}.${format}"`,
          'cache-control': 'no-store',
        },
      });
    })
    .post(paths.erasure, guard, async (c) => {
      const body = await readJson(c, ErasureBody, maxBodyBytes);
      return c.json(await rights.requestErasure(principal(c), body.eraseLocal), 202);
    })
    .get(paths.erasures, guard, async (c) => c.json({ erasures: await rights.erasures(principal(c)) }));
}

/** Employee data rights: see, who viewed, export, erase; for the agent and for the web. */
export function rightsRoutes(deps: { rights: RightsService; deviceAuth: MiddlewareHandler<AppEnv>; requireUser: RequireUser; maxBodyBytes: number }) {
  const { rights, maxBodyBytes } = deps;
  return new Hono<AppEnv>()
    .route('/', routesFor(RIGHTS_PATHS.device, deps.deviceAuth, devicePrincipal, rights, maxBodyBytes))
    .route('/', routesFor(RIGHTS_PATHS.web, deps.requireUser(), webPrincipal, rights, maxBodyBytes));
}
