import { Hono, type Context } from 'hono';
import type { DirectoryService } from '../directory';
import { z } from 'zod';
import { safeText } from '@icarus/shared';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readJson } from '../../platform/http/body';
import type { Access } from './access';
import { failed, form } from './page-routes';
import { ApiTokensPage } from './pages/api-tokens';
import { API_TOKEN_RULES, API_TOKEN_SCOPE_NAMES, type ApiTokens } from './api-tokens';

export const API_TOKEN_PATHS = {
  collection: '/api/account/api-tokens',
  one: '/api/account/api-tokens/:id',
} as const;

export const CreateApiTokenRequest = z.strictObject({
  name: safeText(z.string().trim().min(1, 'is required').max(100)),
  scopes: z.array(z.enum(API_TOKEN_SCOPE_NAMES)).min(1, 'choose at least one').max(API_TOKEN_SCOPE_NAMES.length),
  /** Left out: every team the creator may see, now and later. */
  teamIds: z.array(z.uuid('not a team id')).min(1, 'name at least one team, or leave teamIds out').max(500).optional(),
  expiresInDays: z.int('a whole number of days').min(1).max(API_TOKEN_RULES.maxDays).optional(),
});

export const ApiTokenView = z.object({
  id: z.uuid(),
  name: z.string(),
  scopes: z.array(z.enum(API_TOKEN_SCOPE_NAMES)),
  teamIds: z.array(z.uuid()).nullable(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});
export const CreatedApiToken = z.object({ token: z.string(), apiToken: ApiTokenView });
export const ApiTokenList = z.object({ apiTokens: z.array(ApiTokenView) });

const MAX_BODY = 16 * 1024;

/** The page's form: checkboxes arrive as one string or several. */
const many = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
const CreateForm = z.object({
  _csrf: z.string().max(200).optional(),
  name: z.string().max(200),
  scopes: many,
  teamIds: many,
  expiresInDays: z.string().max(10),
});

/** A manager's or admin's own API tokens: made (the token shown this once), listed, revoked. Session only. */
export function apiTokenRoutes(deps: { apiTokens: ApiTokens; access: Access; directory: DirectoryService }) {
  const { apiTokens, access, directory } = deps;
  const owners = access.requireUser('manager', 'admin');

  async function page(
    c: Context<AppEnv>,
    extra: { created?: { name: string; token: string }; error?: { message: string; fields?: { path: string; problem: string }[] }; info?: string } = {},
  ) {
    const user = c.get('user');
    const all = await directory.listTeams(user.orgId);
    const teams = (user.role === 'admin' ? all : all.filter((t) => user.managedTeamIds.includes(t.id))).map((t) => ({ id: t.id, name: t.name }));
    const csrf = (await access.sessionOf(c))?.session.csrfSecret ?? '';
    return c.html(<ApiTokensPage user={user} csrf={csrf} tokens={await apiTokens.list(user)} teams={teams} {...extra} />);
  }

  return new Hono<AppEnv>()
    .get('/account/api-tokens', owners, (c) => page(c))
    .post('/account/api-tokens', owners, async (c) => {
      try {
        const f = await form(c, CreateForm);
        const input = CreateApiTokenRequest.safeParse({
          name: f.name,
          scopes: f.scopes,
          ...(f.teamIds.length > 0 ? { teamIds: f.teamIds } : {}),
          expiresInDays: Number(f.expiresInDays),
        });
        if (!input.success) throw AppError.fromZod(input.error, 'form');
        const made = await apiTokens.create(c.get('user'), input.data);
        return await page(c, { created: { name: made.apiToken.name, token: made.token } });
      } catch (error) {
        return failed(c, error, (message) => page(c, { error: { message, ...(error instanceof AppError ? { fields: error.fields } : {}) } }) as never);
      }
    })
    .post('/account/api-tokens/:id/revoke', owners, async (c) => {
      const id = c.req.param('id');
      const done = z.uuid().safeParse(id).success && (await apiTokens.revoke(c.get('user'), id));
      if (!done) c.status(404);
      return page(c, done ? { info: 'Revoked: the token no longer works.' } : { error: { message: 'No such token of yours, or it is already revoked' } });
    })
    .post(API_TOKEN_PATHS.collection, owners, async (c) => {
      const body = await readJson(c, CreateApiTokenRequest, MAX_BODY);
      return c.json(await apiTokens.create(c.get('user'), body), 201);
    })
    .get(API_TOKEN_PATHS.collection, owners, async (c) => c.json({ apiTokens: await apiTokens.list(c.get('user')) }))
    .delete(API_TOKEN_PATHS.one, owners, async (c) => {
      const id = c.req.param('id');
      if (!z.uuid().safeParse(id).success) throw new AppError('validation_failed', 'Invalid id: not a token id', [{ path: 'id', problem: 'not a token id' }]);
      if (!(await apiTokens.revoke(c.get('user'), id))) throw new AppError('not_found', 'No such API token of yours, or it is already revoked');
      return c.body(null, 204);
    });
}
