import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { safeText } from '@icarus/shared';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readJson } from '../../platform/http/body';
import { ACCOUNT_RULES, type AccountService } from './account';
import type { Access } from './access';
import { form } from './page-routes';
import { AccountPage } from './pages/account';

const ChangePasswordForm = z.object({
  current: safeText(z.string().max(ACCOUNT_RULES.passwordMax)),
  password: safeText(z.string().max(ACCOUNT_RULES.passwordMax)),
  confirm: safeText(z.string().max(ACCOUNT_RULES.passwordMax)),
  _csrf: z.string().max(200).optional(),
});
export const ChangePasswordRequest = z.strictObject({
  current: safeText(z.string().min(1, 'is required').max(ACCOUNT_RULES.passwordMax)),
  password: safeText(z.string().max(ACCOUNT_RULES.passwordMax)),
});
/** Either the people named, or everyone of the org who cannot sign in yet and has no open invitation. */
export const InvitationRequest = z.union([
  z.strictObject({ userIds: z.array(z.uuid('not a person id')).min(1, 'name at least one person').max(5000) }),
  z.strictObject({ everyoneNotYetInvited: z.literal(true) }),
]);
/** The home's "invite them all", or one person's page naming them. */
const InviteForm = z.object({ _csrf: z.string().max(200).optional(), userId: z.uuid('not a person id').optional() });

const MAX_BODY = 256 * 1024;

/** The account page, password change, the sessions list, and invitations (page forms and JSON). */
export function accountRoutes(deps: { account: AccountService; access: Access; addressOf: (c: Context) => string }) {
  const { account, access } = deps;
  const csrfOf = async (c: Context<AppEnv>) => (await access.sessionOf(c))?.session.csrfSecret ?? '';

  async function page(
    c: Context<AppEnv>,
    extra: { error?: { message: string; fields?: { path: string; problem: string }[] | undefined }; info?: string } = {},
  ) {
    const user = c.get('user');
    const found = await access.sessionOf(c);
    const password = (await account.usesSso(user)) ? 'sso' : (await account.hasPassword(user.userId)) ? 'set' : 'none';
    return c.html(
      <AccountPage
        user={user}
        csrf={await csrfOf(c)}
        password={password}
        minLength={ACCOUNT_RULES.passwordMin}
        sessions={await account.sessions(user)}
        hasTotp={found?.hasTotp ?? false}
        {...extra}
      />,
    );
  }

  async function invite(c: Context<AppEnv>, request: z.infer<typeof InvitationRequest>) {
    const user = c.get('user');
    const userIds = 'userIds' in request ? request.userIds : (await account.notYetInvited(user.orgId)).map((p) => p.id);
    return account.invite(user, userIds);
  }

  return new Hono<AppEnv>()
    .get('/account', access.requireUser(), (c) => {
      const done = c.req.query('done');
      return page(
        c,
        done === 'password'
          ? { info: 'Your password is changed. Every other browser was signed out.' }
          : done === 'session'
            ? { info: 'That session is signed out.' }
            : {},
      );
    })
    .post('/account/password', access.requireUser(), async (c) => {
      const body = await form(c, ChangePasswordForm);
      try {
        await account.changePassword(c.get('user'), { ...body, address: deps.addressOf(c) });
        return c.redirect('/account?done=password', 303);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        for (const [name, value] of Object.entries(err.headers ?? {})) c.header(name, value);
        c.status(err.status);
        return page(c, { error: { message: err.message, fields: err.fields } });
      }
    })
    .post('/account/sessions/:sessionId/end', access.requireUser(), async (c) => {
      await account.endSession(c.get('user'), c.req.param('sessionId'));
      return c.redirect('/account?done=session', 303);
    })
    .post('/account/invitations', access.requireUser('admin'), async (c) => {
      const body = await form(c, InviteForm);
      if (body.userId) {
        const result = await invite(c, { userIds: [body.userId] });
        return c.redirect(`/admin/people/${body.userId}?done=${result.invited.length > 0 ? 'invited' : 'not_invited'}`, 303);
      }
      const result = await invite(c, { everyoneNotYetInvited: true });
      return c.redirect(`/?invited=${result.invited.length}`, 303);
    })
    .get('/api/account/sessions', access.requireUser(), async (c) => c.json({ sessions: await account.sessions(c.get('user')) }))
    .post('/api/account/password', access.requireUser(), async (c) => {
      const body = await readJson(c, ChangePasswordRequest, MAX_BODY);
      const ended = await account.changePassword(c.get('user'), { ...body, confirm: body.password, address: deps.addressOf(c) });
      return c.json({ changed: true, sessionsEnded: ended });
    })
    .get('/api/invitations/pending', access.requireUser('admin'), async (c) => c.json({ people: await account.notYetInvited(c.get('user').orgId) }))
    .post('/api/invitations', access.requireUser('admin'), async (c) => c.json(await invite(c, await readJson(c, InvitationRequest, MAX_BODY)), 201));
}
