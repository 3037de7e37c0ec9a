import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { PolicyDrafts } from '../consent';
import type { ConsentService } from '../consent';
import type { DirectoryService, PeopleAdmin } from '../directory';
import type { AppEnv, SignedInUser, RequireUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readForm } from '../../platform/http/body';
import { idParam, versionParam } from './api';
import { EnrollmentTokenInput, FleetQuery, type FleetAdmin } from './fleet';
import { DevicePage, DevicesPage, RevokeConfirmPage, TokensPage } from './fleet-pages';
import { installCommands } from './install-commands';
import { contentFromForm, formFromBody, formFromContent, type PolicyForm } from './policy-form';
import { ConsentHistoryPage, PolicyListPage, PolicyVersionPage, type PageMessages } from './policy-pages';

const DONE: Record<string, string> = {
  created: 'Draft created from the current policy.',
  saved: 'Draft saved.',
  submit: 'Submitted for review.',
  reopen: 'Back to draft; approvals so far were dropped.',
  approve: 'Your approval is recorded.',
  publish: 'Published. Devices ask their people again at their next sync where anything widened.',
  settings: 'Approval setting saved.',
  revoked: 'Revoked.',
  assigned: 'Assigned: the device now records for that person only, after they consent on it.',
  unassigned: 'Unassigned: the device records for no one until it is bound again.',
};

/** Turns a refused action into the page's error text; anything but an AppError is a real failure. */
function refused(error: unknown): PageMessages {
  if (!(error instanceof AppError)) throw error;
  // A form's problems are listed field by field in plain words below this line.
  const message = error.code === 'validation_failed' && (error.fields?.length ?? 0) > 0 ? 'Nothing was saved. Please correct:' : error.message;
  return { error: message, fields: error.fields };
}

/** Admin pages: policy versions, consent history, devices and enrollment tokens. Forms carry the CSRF token. */
export function adminPageRoutes(deps: {
  drafts: PolicyDrafts;
  consent: ConsentService;
  fleet: FleetAdmin;
  directory: DirectoryService;
  people: PeopleAdmin;
  requireUser: RequireUser;
  csrfOf: (c: Context<AppEnv>) => Promise<string>;
  publicUrl: () => string;
}) {
  const { drafts, fleet, requireUser, csrfOf } = deps;
  const admin = requireUser('admin');
  const anyone = requireUser();
  const info = (c: Context) => DONE[c.req.query('done') ?? ''];
  const timeZoneOf = async (user: SignedInUser) => (await deps.directory.findOrg(user.orgId))?.timeZone ?? 'UTC';

  async function versionPage(c: Context<AppEnv>, version: number, messages: PageMessages = {}, form?: PolicyForm) {
    const user = c.get('user');
    const view = await drafts.get(user, version);
    const person = await deps.directory.findUser(user.userId);
    const isAuthor = view.authors.some((a) => a.userId === user.userId);
    const canApprove = (user.role === 'admin' || person?.worksCouncil === true) && !isAuthor;
    return c.html(
      <PolicyVersionPage
        user={user}
        csrf={await csrfOf(c)}
        view={view}
        form={form ?? formFromContent(view.content)}
        canApprove={canApprove}
        isAuthor={isAuthor}
        {...messages}
      />,
    );
  }

  async function listPage(c: Context<AppEnv>, messages: PageMessages = {}) {
    const user = c.get('user');
    const versions = await drafts.list(user);
    const [org, members] = await Promise.all([deps.directory.findOrg(user.orgId), deps.people.worksCouncil(user)]);
    const council = { required: org?.worksCouncilRequired ?? false, members };
    return c.html(<PolicyListPage user={user} csrf={await csrfOf(c)} versions={versions} council={council} {...messages} />);
  }

  async function devicesPage(c: Context<AppEnv>, messages: PageMessages = {}) {
    const user = c.get('user');
    const query = Object.fromEntries(Object.entries(c.req.query()).filter(([k]) => k !== 'done'));
    const parsed = FleetQuery.safeParse(query);
    const timeZone = await timeZoneOf(user);
    if (!parsed.success) {
      // A hand-edited address: say what was wrong and show the fleet unfiltered.
      const problem = AppError.fromZod(parsed.error, 'query');
      c.status(400);
      const list = await fleet.listDevices(user, FleetQuery.parse({}));
      return c.html(<DevicesPage user={user} list={list} query={{}} timeZone={timeZone} now={new Date()} error={problem.message} fields={problem.fields} />);
    }
    const list = await fleet.listDevices(user, parsed.data);
    return c.html(<DevicesPage user={user} list={list} query={query} timeZone={timeZone} now={new Date()} info={info(c)} {...messages} />);
  }

  async function devicePage(c: Context<AppEnv>, deviceId: string, messages: PageMessages = {}, values?: Record<string, string>) {
    const user = c.get('user');
    const [device, timeZone] = await Promise.all([fleet.device(user, deviceId), timeZoneOf(user)]);
    return c.html(
      <DevicePage user={user} csrf={await csrfOf(c)} device={device} timeZone={timeZone} info={info(c)} {...(values ? { values } : {})} {...messages} />,
    );
  }

  async function tokensPage(c: Context<AppEnv>, extra: Partial<Parameters<typeof TokensPage>[0]> = {}) {
    const user = c.get('user');
    const [tokens, teams, people, timeZone] = await Promise.all([
      fleet.listTokens(user),
      deps.directory.listTeams(user.orgId),
      deps.directory.listMembers(user.orgId),
      timeZoneOf(user),
    ]);
    return c.html(
      <TokensPage user={user} csrf={await csrfOf(c)} tokens={tokens} teams={teams} people={people} timeZone={timeZone} info={info(c)} {...extra} />,
    );
  }

  const app = new Hono<AppEnv>()
    .get('/admin', admin, (c) => c.redirect('/admin/policies', 303))
    .get('/admin/policies', anyone, async (c) => listPage(c, { info: info(c) }))
    .post('/admin/policies', admin, async (c) => {
      const user = c.get('user');
      try {
        const current = await deps.consent.currentPolicy(user.orgId);
        const draft = await drafts.createDraft(user, current.content);
        return c.redirect(`/admin/policies/${draft.version}?done=created`, 303);
      } catch (error) {
        c.status(409);
        return listPage(c, refused(error));
      }
    })
    .post('/admin/policies/settings', admin, async (c) => {
      const body = await readForm(c);
      try {
        await deps.people.setWorksCouncilRequired(c.get('user'), body['worksCouncilRequired'] !== undefined);
        return c.redirect('/admin/policies?done=settings', 303);
      } catch (error) {
        const messages = refused(error);
        c.status(error instanceof AppError ? error.status : 500);
        return listPage(c, messages);
      }
    })
    .get('/admin/policies/:version', anyone, async (c) => versionPage(c, versionParam(c), { info: info(c) }))
    .post('/admin/policies/:version', admin, async (c) => {
      const version = versionParam(c);
      const form = formFromBody(await readForm(c));
      try {
        await drafts.updateDraft(c.get('user'), version, contentFromForm(form));
        return c.redirect(`/admin/policies/${version}?done=saved`, 303);
      } catch (error) {
        const messages = refused(error);
        c.status(error instanceof AppError ? error.status : 400);
        return versionPage(c, version, messages, form);
      }
    })
    .get('/admin/people/:userId/consent', admin, async (c) =>
      c.html(<ConsentHistoryPage user={c.get('user')} history={await drafts.consentHistory(c.get('user'), idParam(c, 'userId'))} />),
    )
    .get('/admin/devices', admin, async (c) => devicesPage(c))
    .get('/admin/devices/:deviceId', admin, async (c) => devicePage(c, idParam(c, 'deviceId')))
    .post('/admin/devices/:deviceId/assign', admin, async (c) => {
      const deviceId = idParam(c, 'deviceId');
      const user = c.get('user');
      await fleet.requireOwnDevice(user, deviceId);
      const form = await readForm(c);
      const person = typeof form['person'] === 'string' ? form['person'] : '';
      try {
        if (person.trim() === '')
          throw new AppError('validation_failed', 'Enter the email of the person', [{ path: 'person', problem: "enter the person's email" }]);
        await fleet.assignDevice(user, deviceId, { userId: await fleet.personByEmail(user, person) });
        return c.redirect(`/admin/devices/${deviceId}?done=assigned`, 303);
      } catch (error) {
        const messages = refused(error);
        c.status(error instanceof AppError ? error.status : 400);
        return devicePage(c, deviceId, messages, { person });
      }
    })
    .post('/admin/devices/:deviceId/unassign', admin, async (c) => {
      const deviceId = idParam(c, 'deviceId');
      await fleet.requireOwnDevice(c.get('user'), deviceId);
      await fleet.assignDevice(c.get('user'), deviceId, { userId: null });
      return c.redirect(`/admin/devices/${deviceId}?done=unassigned`, 303);
    })
    // Revoking asks first: the question is its own page, so it works without scripts.
    .get('/admin/devices/:deviceId/revoke', admin, async (c) => {
      const user = c.get('user');
      const deviceId = idParam(c, 'deviceId');
      await fleet.requireOwnDevice(user, deviceId);
      const [device, timeZone] = await Promise.all([fleet.device(user, deviceId), timeZoneOf(user)]);
      return c.html(<RevokeConfirmPage user={user} csrf={await csrfOf(c)} device={device} timeZone={timeZone} />);
    })
    .post('/admin/devices/:deviceId/revoke', admin, async (c) => {
      const deviceId = idParam(c, 'deviceId');
      const form = await readForm(c);
      // Only the confirmation page's button revokes; any other post is sent to the question.
      if (form['confirm'] !== 'revoke') return c.redirect(`/admin/devices/${deviceId}/revoke`, 303);
      await fleet.revokeDevice(c.get('user'), deviceId);
      return c.redirect(`/admin/devices/${deviceId}?done=revoked`, 303);
    })
    .get('/admin/enrollment-tokens', admin, async (c) => tokensPage(c))
    .post('/admin/enrollment-tokens', admin, async (c) => {
      const body = await readForm(c);
      const values = Object.fromEntries(Object.entries(body).flatMap(([k, v]) => (typeof v === 'string' && k !== '_csrf' ? [[k, v]] : [])));
      const parsed = EnrollmentTokenInput.safeParse(values);
      try {
        if (!parsed.success) throw AppError.fromZod(parsed.error, 'form');
        const created = await fleet.createToken(c.get('user'), parsed.data);
        c.status(201);
        return tokensPage(c, { created: { ...created, commands: installCommands(deps.publicUrl(), created.token) } });
      } catch (error) {
        const messages = refused(error);
        c.status(400);
        return tokensPage(c, { ...messages, values });
      }
    })
    .post('/admin/enrollment-tokens/:tokenId/revoke', admin, async (c) => {
      await fleet.revokeToken(c.get('user'), idParam(c, 'tokenId'));
      return c.redirect('/admin/enrollment-tokens?done=revoked', 303);
    });

  // Workflow steps: the same service calls as the API, answered with the page again.
  for (const step of ['submit', 'reopen', 'approve', 'publish'] as const) {
    app.post(`/admin/policies/:version/${step}`, step === 'approve' ? anyone : admin, async (c) => {
      const version = versionParam(c);
      // "Save and submit" posts the editor itself: what was typed is saved first, or comes back refused.
      const body = step === 'submit' || step === 'publish' ? await readForm(c) : {};
      const form = step === 'submit' && 'purpose' in body ? formFromBody(body) : undefined;
      try {
        if (form) await drafts.updateDraft(c.get('user'), version, contentFromForm(form));
        if (step === 'publish' && body['withoutReview'] === 'yes') {
          // The only reviewer publishing their own version: only with the confirmation ticked.
          if (body['confirm'] !== 'yes') {
            throw new AppError('validation_failed', 'Tick the box to confirm that nobody else reviewed this version', [
              { path: 'confirm', problem: 'tick the box to confirm that nobody else reviewed this version' },
            ]);
          }
          await drafts.publish(c.get('user'), version, { withoutReview: true });
        } else await drafts[step](c.get('user'), version);
        return c.redirect(`/admin/policies/${version}?done=${step}`, 303);
      } catch (error) {
        const messages = refused(error);
        c.status(error instanceof AppError ? error.status : 500);
        return versionPage(c, version, messages, form);
      }
    });
  }
  return app;
}
