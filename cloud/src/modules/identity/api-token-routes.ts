import { Hono } from 'hono';
import { z } from 'zod';
import { safeText } from '@icarus/shared';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readJson } from '../../platform/http/body';
import type { Access } from './access';
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

/** A manager's or admin's own API tokens: made (the token shown this once), listed, revoked. Session only. */
export function apiTokenRoutes(deps: { apiTokens: ApiTokens; access: Access }) {
  const { apiTokens } = deps;
  const owners = deps.access.requireUser('manager', 'admin');
  return new Hono<AppEnv>()
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
