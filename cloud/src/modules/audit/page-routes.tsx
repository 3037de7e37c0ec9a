import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AppEnv, RequireUser, SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { AUDIT_PAGE, AuditEventPage, AuditPage, ChainPage, type Names } from './pages';
import { AuditPageQuery, resolvePageQuery } from './page-query';
import type { AuditEventView, AuditPeople, AuditViewer } from './viewer';

const Seq = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** The audit viewer, for admins and auditors: people by name, times in the org's zone. */
export function auditPageRoutes(deps: { viewer: AuditViewer; requireUser: RequireUser; people: AuditPeople }) {
  const readers = deps.requireUser('admin', 'auditor');
  /** Names of the people the events on a page show: actors, and the people of entries naming only a few. */
  const namesFor = async (user: SignedInUser, events: AuditEventView[], extra: string[] = [], all = false): Promise<Names> => {
    const ids = new Set(extra);
    for (const e of events) {
      if (e.actorType === 'user') ids.add(e.actorId);
      if (all || e.subjectUserIds.length <= 3) for (const id of e.subjectUserIds) ids.add(id);
    }
    const found = ids.size === 0 ? [] : await deps.people.find(user.orgId, { ids: [...ids] });
    return new Map(found.map((m) => [m.id, { name: m.name, role: m.role }]));
  };
  /** The people a typed name or email could mean (an exact email or id among them wins). */
  const candidates = async (user: SignedInUser, text: string | undefined, id?: string) =>
    text || id ? deps.people.find(user.orgId, { ...(text ? { text } : {}), ...(id ? { ids: [id] } : {}), limit: 200 }) : [];

  return (
    new Hono<AppEnv>()
      .get(AUDIT_PAGE, readers, async (c: Context<AppEnv>) => {
        const user = c.get('user');
        const raw = c.req.query();
        const timeZone = await deps.people.timeZone(user.orgId);
        const refused = (error: AppError, choices?: { field: string; people: { id: string; name: string; email: string }[] }) => {
          c.status(400);
          return c.html(
            <AuditPage
              user={user}
              query={raw}
              events={[]}
              nextBefore={null}
              names={new Map()}
              timeZone={timeZone}
              choices={choices}
              error={error.message}
              fields={error.fields}
            />,
          );
        };
        const parsed = AuditPageQuery.safeParse(raw);
        if (!parsed.success) return refused(AppError.fromZod(parsed.error, 'query'));
        const [person, actor] = await Promise.all([candidates(user, parsed.data.person, parsed.data.subject), candidates(user, parsed.data.actor)]);
        const resolved = resolvePageQuery(parsed.data, { person, actor }, timeZone);
        if (!resolved.ok) {
          return refused(new AppError('validation_failed', resolved.problem, [{ path: resolved.field, problem: resolved.problem }]), {
            field: resolved.field,
            people: resolved.choices,
          });
        }
        const page = await deps.viewer.page(user, resolved.query);
        const names = await namesFor(user, page.events, resolved.query.subject ? [resolved.query.subject] : []);
        return c.html(
          <AuditPage user={user} query={raw} events={page.events} nextBefore={page.nextBefore} names={names} timeZone={timeZone} resolved={resolved.query} />,
        );
      })
      .get(`${AUDIT_PAGE}/events/:seq`, readers, async (c) => {
        const user = c.get('user');
        const seq = Seq.safeParse(c.req.param('seq'));
        const event = seq.success ? await deps.viewer.event(user, seq.data) : undefined;
        if (!event) throw new AppError('not_found', 'No such audit entry in this organisation', [{ path: 'seq', problem: 'not found' }]);
        const [names, timeZone] = await Promise.all([namesFor(user, [event], [], true), deps.people.timeZone(user.orgId)]);
        return c.html(<AuditEventPage user={user} event={event} names={names} timeZone={timeZone} />);
      })
      // Recomputes every hash of the org's chain: asked for, not paid on every page of the log.
      .get(`${AUDIT_PAGE}/verify`, readers, async (c) => {
        const user = c.get('user');
        const supplied = c.req.query('checkpoint') ?? '';
        const checkpoint = await deps.viewer.checkpoint(user);
        try {
          // A pasted checkpoint is held against the chain too; one that is not ours is a 400 naming it.
          const chain = await deps.viewer.verify(user, supplied === '' ? undefined : supplied);
          return c.html(<ChainPage user={user} chain={chain} checkpoint={checkpoint} supplied={supplied} />);
        } catch (error) {
          if (!(error instanceof AppError) || error.status !== 400) throw error;
          c.status(400);
          return c.html(<ChainPage user={user} chain={null} checkpoint={checkpoint} supplied={supplied} error={error.message} fields={error.fields} />);
        }
      })
  );
}
