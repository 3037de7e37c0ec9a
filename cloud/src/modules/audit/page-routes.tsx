import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AppEnv, RequireUser, SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { AUDIT_PAGE, AuditEventPage, AuditPage, ChainPage, type Names } from './pages';
import { AuditPageQuery, resolvePageQuery } from './page-query';
import type { AuditPeople, AuditViewer } from './viewer';

const Seq = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** The audit viewer, for admins and auditors: people by name, times in the org's zone. */
export function auditPageRoutes(deps: { viewer: AuditViewer; requireUser: RequireUser; people: AuditPeople }) {
  const readers = deps.requireUser('admin', 'auditor');
  const context = async (user: SignedInUser) => {
    const [members, timeZone] = await Promise.all([deps.people.members(user.orgId), deps.people.timeZone(user.orgId)]);
    const names: Names = new Map(members.map((m) => [m.id, { name: m.name, role: m.role }]));
    return { members, timeZone, names };
  };

  return (
    new Hono<AppEnv>()
      .get(AUDIT_PAGE, readers, async (c: Context<AppEnv>) => {
        const user = c.get('user');
        const raw = c.req.query();
        const { members, timeZone, names } = await context(user);
        const refused = (error: AppError, choices?: { field: string; people: { id: string; name: string; email: string }[] }) => {
          c.status(400);
          return c.html(
            <AuditPage
              user={user}
              query={raw}
              events={[]}
              nextBefore={null}
              names={names}
              timeZone={timeZone}
              choices={choices}
              error={error.message}
              fields={error.fields}
            />,
          );
        };
        const parsed = AuditPageQuery.safeParse(raw);
        if (!parsed.success) return refused(AppError.fromZod(parsed.error, 'query'));
        const resolved = resolvePageQuery(parsed.data, members, timeZone);
        if (!resolved.ok) {
          return refused(new AppError('validation_failed', resolved.problem, [{ path: resolved.field, problem: resolved.problem }]), {
            field: resolved.field,
            people: resolved.choices,
          });
        }
        const page = await deps.viewer.page(user, resolved.query);
        return c.html(<AuditPage user={user} query={raw} events={page.events} nextBefore={page.nextBefore} names={names} timeZone={timeZone} />);
      })
      .get(`${AUDIT_PAGE}/events/:seq`, readers, async (c) => {
        const user = c.get('user');
        const seq = Seq.safeParse(c.req.param('seq'));
        const event = seq.success ? await deps.viewer.event(user, seq.data) : undefined;
        if (!event) throw new AppError('not_found', 'No such audit entry in this organisation', [{ path: 'seq', problem: 'not found' }]);
        const { names, timeZone } = await context(user);
        return c.html(<AuditEventPage user={user} event={event} names={names} timeZone={timeZone} />);
      })
      // Recomputes every hash of the org's chain: asked for, not paid on every page of the log.
      .get(`${AUDIT_PAGE}/verify`, readers, async (c) => {
        const user = c.get('user');
        return c.html(<ChainPage user={user} chain={await deps.viewer.verify(user)} />);
      })
  );
}
