import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AnalyticsModule } from '../analytics';
import { CategoryRuleInput } from '../analytics';
import type { DirectoryImporter, DirectoryService, PeopleAdmin } from '../directory';
import { TeamName } from '../directory';
import type { NotificationService } from '../notification';
import { EVENT_TYPES, WebhookBody } from '../notification';
import type { AppEnv, RequireUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readForm } from '../../platform/http/body';
import { idParam } from './api';
import { ImportPage, PeoplePage, PersonPage, TeamPage, TeamsPage, type Messages } from './people-pages';
import { CategoriesPage, WebhooksPage, type RuleRow } from './settings-pages';

const DONE: Record<string, string> = {
  invited: 'Invitation sent: the link in the mail lets them set a password, for 7 days.',
  not_invited: 'Not invited: they have a password already (they can reset it from the sign-in page), sign in with single sign-on, or are deactivated.',
  moved: 'Moved. Reports count earlier days with the earlier team.',
  council: 'Works-council membership saved.',
  deactivated: 'Deactivated: they can no longer sign in.',
  reactivated: 'Reactivated.',
  created: 'Team created.',
  renamed: 'Team renamed.',
  managers: 'Managers saved.',
  rules: 'Rules saved. Reports are being recomputed with them.',
  tested: 'Test delivery queued; it appears in the history below.',
  removed: 'Endpoint removed.',
  enabled: 'Endpoint re-enabled. A test delivery is queued; it appears in the history below.',
};

const PeopleQuery = z.object({
  q: z.string().max(200).default(''),
  team: z.union([z.literal(''), z.uuid()]).default(''),
  status: z.enum(['active', 'deactivated', 'all']).default('active'),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});

function refused(error: unknown): Messages {
  if (!(error instanceof AppError)) throw error;
  const message = error.code === 'validation_failed' && (error.fields?.length ?? 0) > 0 ? 'Nothing was saved. Please correct:' : error.message;
  return { error: message, fields: error.fields };
}

const text = (body: Record<string, unknown>, name: string) => {
  const v = body[name];
  return typeof v === 'string' ? v : '';
};

/** Rule rows as typed; rows left wholly empty are dropped so the rest keep their order. */
function rulesFromBody(body: Record<string, unknown>): RuleRow[] {
  const rows: RuleRow[] = [];
  for (let i = 0; i < 500; i++) {
    const row = {
      app: text(body, `rules.${i}.app`),
      title: text(body, `rules.${i}.title`),
      category: text(body, `rules.${i}.category`),
      productivity: text(body, `rules.${i}.productivity`),
    };
    if (row.app === '' && row.title === '' && row.category === '' && !(`rules.${i}.app` in body)) break;
    if (row.app !== '' || row.title !== '' || row.category !== '') rows.push(row);
  }
  return rows;
}

function parseRules(rows: RuleRow[]) {
  const parsed = z
    .array(CategoryRuleInput)
    .max(500)
    .safeParse(
      rows.map((r) => ({ app: r.app.trim(), ...(r.title.trim() ? { title: r.title.trim() } : {}), category: r.category.trim(), productivity: r.productivity })),
    );
  if (!parsed.success) {
    const error = AppError.fromZod(parsed.error, 'form');
    throw new AppError(
      'validation_failed',
      error.message,
      error.fields?.map((f) => ({ ...f, path: `rules.${f.path}` })),
    );
  }
  return parsed.data;
}

/** People, teams and the CSV import; category rules with their preview; webhook endpoints and deliveries. Admins only. */
export function directoryPageRoutes(deps: {
  people: PeopleAdmin;
  directory: DirectoryService;
  importer: DirectoryImporter;
  analytics: Pick<AnalyticsModule, 'service' | 'previewRules'>;
  notifications: NotificationService;
  requireUser: RequireUser;
  csrfOf: (c: Context<AppEnv>) => Promise<string>;
}) {
  const { people, requireUser, csrfOf } = deps;
  const admin = requireUser('admin');
  const info = (c: Context) => DONE[c.req.query('done') ?? ''];
  const teamsOf = (orgId: string) => deps.directory.listTeams(orgId);

  async function personPage(c: Context<AppEnv>, userId: string, messages: Messages = {}) {
    const user = c.get('user');
    const [person, teams] = await Promise.all([people.person(user, userId), teamsOf(user.orgId)]);
    return c.html(<PersonPage user={user} csrf={await csrfOf(c)} person={person} teams={teams} info={info(c)} {...messages} />);
  }

  async function teamsPage(c: Context<AppEnv>, messages: Messages & { name?: string } = {}) {
    const user = c.get('user');
    return c.html(<TeamsPage user={user} csrf={await csrfOf(c)} teams={await people.listTeams(user)} info={info(c)} {...messages} />);
  }

  async function teamPage(c: Context<AppEnv>, teamId: string, messages: Messages & { managerEmails?: string } = {}) {
    const user = c.get('user');
    const team = await people.team(user, teamId);
    const emails = await Promise.all(team.managers.map(async (m) => (await deps.directory.findUser(m.id))?.email ?? ''));
    return c.html(<TeamPage user={user} csrf={await csrfOf(c)} team={team} managerEmails={emails.join(', ')} info={info(c)} {...messages} />);
  }

  async function categoriesPage(c: Context<AppEnv>, extra: Partial<Parameters<typeof CategoriesPage>[0]> = {}) {
    const user = c.get('user');
    const { rules, defaults } = await deps.analytics.service.rules(user.orgId);
    const rows = rules.map((r) => ({ app: r.app, title: r.title ?? '', category: r.category, productivity: r.productivity }));
    return c.html(<CategoriesPage user={user} csrf={await csrfOf(c)} rules={rows} defaults={defaults} info={info(c)} {...extra} />);
  }

  async function webhooksPage(c: Context<AppEnv>, extra: Partial<Parameters<typeof WebhooksPage>[0]> = {}) {
    const user = c.get('user');
    const [webhooks, disabled, deliveries] = await Promise.all([
      deps.notifications.listWebhooks(user.orgId),
      deps.notifications.disabledWebhooks(user.orgId),
      deps.notifications.deliveries(user.orgId),
    ]);
    return c.html(
      <WebhooksPage
        user={user}
        csrf={await csrfOf(c)}
        events={EVENT_TYPES}
        webhooks={webhooks}
        disabled={disabled}
        deliveries={deliveries.filter((d) => d.channel === 'webhook')}
        info={info(c)}
        {...extra}
      />,
    );
  }

  /** Runs a change and redirects with `done`, or answers the page again with what was refused. */
  async function attempt(c: Context<AppEnv>, run: () => Promise<string>, again: (m: Messages) => Promise<Response>) {
    try {
      return c.redirect(await run(), 303);
    } catch (error) {
      const messages = refused(error);
      c.status(error instanceof AppError ? error.status : 500);
      return again(messages);
    }
  }

  return new Hono<AppEnv>()
    .get('/admin/people', admin, async (c) => {
      const user = c.get('user');
      const parsed = PeopleQuery.safeParse(c.req.query());
      if (!parsed.success) throw AppError.fromZod(parsed.error, 'query');
      const q = parsed.data;
      const [list, teams] = await Promise.all([
        people.listPeople(user, { search: q.q.trim() || undefined, teamId: q.team || undefined, status: q.status, page: q.page }),
        teamsOf(user.orgId),
      ]);
      return c.html(<PeoplePage user={user} list={list} teams={teams} query={{ q: q.q, team: q.team, status: q.status }} info={info(c)} />);
    })
    .get('/admin/people/import', admin, async (c) => c.html(<ImportPage user={c.get('user')} csrf={await csrfOf(c)} csv="email,name,team,managerEmail,role" />))
    .post('/admin/people/import', admin, async (c) => {
      const user = c.get('user');
      const body = await readForm(c);
      const csv = text(body, 'csv');
      const dryRun = text(body, 'mode') !== 'import';
      try {
        const outcome = await deps.importer.importCsv({ orgId: user.orgId, actorUserId: user.userId, text: csv, dryRun });
        return c.html(<ImportPage user={user} csrf={await csrfOf(c)} csv={dryRun ? csv : ''} outcome={outcome} />, dryRun ? 200 : 201);
      } catch (error) {
        const messages = refused(error);
        return c.html(<ImportPage user={user} csrf={await csrfOf(c)} csv={csv} error={messages.error} fields={messages.fields} />, 400);
      }
    })
    .get('/admin/people/:userId', admin, async (c) => personPage(c, idParam(c, 'userId')))
    .post('/admin/people/:userId/team', admin, async (c) => {
      const userId = idParam(c, 'userId');
      const teamId = text(await readForm(c), 'teamId');
      const team = z.union([z.literal(''), z.uuid()]).safeParse(teamId);
      return attempt(
        c,
        async () => {
          if (!team.success)
            throw new AppError('validation_failed', 'Nothing was saved. Please correct:', [{ path: 'teamId', problem: 'is not a team of this organisation' }]);
          await people.movePerson(c.get('user'), userId, team.data || null);
          return `/admin/people/${userId}?done=moved`;
        },
        (m) => personPage(c, userId, m),
      );
    })
    .post('/admin/people/:userId/works-council', admin, async (c) => {
      const userId = idParam(c, 'userId');
      const person = await people.person(c.get('user'), userId);
      await people.setWorksCouncil(c.get('user'), userId, !person.worksCouncil);
      return c.redirect(`/admin/people/${userId}?done=council`, 303);
    })
    .post('/admin/people/:userId/deactivate', admin, async (c) => {
      const userId = idParam(c, 'userId');
      return attempt(
        c,
        async () => {
          await people.setActive(c.get('user'), userId, false);
          return `/admin/people/${userId}?done=deactivated`;
        },
        (m) => personPage(c, userId, m),
      );
    })
    .post('/admin/people/:userId/reactivate', admin, async (c) => {
      const userId = idParam(c, 'userId');
      await people.setActive(c.get('user'), userId, true);
      return c.redirect(`/admin/people/${userId}?done=reactivated`, 303);
    })
    .get('/admin/teams', admin, async (c) => teamsPage(c))
    .post('/admin/teams', admin, async (c) => {
      const name = text(await readForm(c), 'name');
      return attempt(
        c,
        async () => {
          const parsed = TeamName.safeParse(name);
          if (!parsed.success) throw AppError.fromZod(parsed.error, 'name');
          const { id } = await people.createTeam(c.get('user'), parsed.data);
          return `/admin/teams/${id}?done=created`;
        },
        (m) => teamsPage(c, { ...m, name }),
      );
    })
    .get('/admin/teams/:teamId', admin, async (c) => teamPage(c, idParam(c, 'teamId')))
    .post('/admin/teams/:teamId/name', admin, async (c) => {
      const teamId = idParam(c, 'teamId');
      const name = text(await readForm(c), 'name');
      return attempt(
        c,
        async () => {
          const parsed = TeamName.safeParse(name);
          if (!parsed.success) throw AppError.fromZod(parsed.error, 'name');
          await people.renameTeam(c.get('user'), teamId, parsed.data);
          return `/admin/teams/${teamId}?done=renamed`;
        },
        (m) => teamPage(c, teamId, m),
      );
    })
    .post('/admin/teams/:teamId/managers', admin, async (c) => {
      const teamId = idParam(c, 'teamId');
      const typed = text(await readForm(c), 'managers');
      return attempt(
        c,
        async () => {
          const user = c.get('user');
          const emails = typed
            .split(/[,;\s]+/)
            .map((e) => e.trim())
            .filter((e) => e !== '');
          const ids: string[] = [];
          for (const email of emails) {
            const found = await deps.directory.findUserByEmail(user.orgId, email);
            if (!found)
              throw new AppError('validation_failed', 'Nothing was saved. Please correct:', [
                { path: 'managers', problem: `name no one in this organisation: ${email}` },
              ]);
            ids.push(found.id);
          }
          await people.setTeamManagers(user, teamId, ids);
          return `/admin/teams/${teamId}?done=managers`;
        },
        (m) => teamPage(c, teamId, { ...m, managerEmails: typed }),
      );
    })
    .get('/admin/categories', admin, async (c) => categoriesPage(c))
    .post('/admin/categories/preview', admin, async (c) => {
      const rows = rulesFromBody(await readForm(c));
      try {
        const rules = parseRules(rows);
        return categoriesPage(c, { rules: rows, preview: await deps.analytics.previewRules(c.get('user').orgId, rules) });
      } catch (error) {
        c.status(400);
        return categoriesPage(c, { rules: rows, ...refused(error) });
      }
    })
    .post('/admin/categories', admin, async (c) => {
      const rows = rulesFromBody(await readForm(c));
      try {
        const user = c.get('user');
        await deps.analytics.service.setRules(user.orgId, parseRules(rows), user.userId);
        return c.redirect('/admin/categories?done=rules', 303);
      } catch (error) {
        c.status(400);
        return categoriesPage(c, { rules: rows, ...refused(error) });
      }
    })
    .get('/admin/webhooks', admin, async (c) => webhooksPage(c))
    .post('/admin/webhooks', admin, async (c) => {
      const body = await readForm(c);
      const values = { url: text(body, 'url').trim(), events: EVENT_TYPES.filter((e) => body[`event.${e}`] !== undefined) };
      try {
        const parsed = WebhookBody.safeParse(values);
        if (!parsed.success) throw AppError.fromZod(parsed.error, 'form');
        const created = await deps.notifications.addWebhook(c.get('user'), parsed.data);
        c.status(201);
        return webhooksPage(c, { created });
      } catch (error) {
        c.status(error instanceof AppError ? error.status : 500);
        return webhooksPage(c, { ...refused(error), values });
      }
    })
    .post('/admin/webhooks/:id/test', admin, async (c) => {
      await deps.notifications.testWebhook(c.get('user'), idParam(c, 'id'));
      return c.redirect('/admin/webhooks?done=tested', 303);
    })
    .post('/admin/webhooks/:id/enable', admin, async (c) => {
      try {
        await deps.notifications.enableWebhook(c.get('user'), idParam(c, 'id'));
        return c.redirect('/admin/webhooks?done=enabled', 303);
      } catch (error) {
        c.status(error instanceof AppError ? error.status : 500);
        return webhooksPage(c, refused(error));
      }
    })
    .post('/admin/webhooks/:id/remove', admin, async (c) => {
      await deps.notifications.removeWebhook(c.get('user'), idParam(c, 'id'));
      return c.redirect('/admin/webhooks?done=removed', 303);
    });
}
