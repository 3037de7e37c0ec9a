import { createHash, randomBytes } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import type { AuditService } from '../audit';
import type { DirectoryService } from '../directory';
import type { Database } from '../../platform/db/client';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { createApiTokenStore, type ApiTokenRow } from './api-token-store';

/** The prefix names what a leaked string is (secret scanners key on it); 32 random bytes follow. */
export const API_TOKEN_PREFIX = 'icn_api_';

export const API_TOKEN_RULES = {
  defaultDays: 90,
  maxDays: 365,
  /** Per token: a BI refresh reads a few dozen reports at once, then nothing for an hour. */
  rate: { ratePerSecond: 2, burst: 60 },
} as const;

/**
 * What a token may read, by report family: the GET paths each scope opens. Nothing else
 * takes a token (admin writes, account pages, sessions): the list is closed.
 */
export const API_TOKEN_SCOPES = {
  'reports:team': ['/api/reports/teams', '/api/reports/team-summary', '/api/reports/team-apps', '/api/reports/team-people', '/api/reports/team-trend'],
  'reports:org': ['/api/reports/org-trend', '/api/reports/team-comparison'],
  'reports:export': ['/api/reports/export.csv'],
} as const satisfies Record<string, readonly string[]>;
export type ApiTokenScope = keyof typeof API_TOKEN_SCOPES;
export const API_TOKEN_SCOPE_NAMES = Object.keys(API_TOKEN_SCOPES) as [ApiTokenScope, ...ApiTokenScope[]];

/** The scope that opens `path` for a token, or undefined when no scope does. */
export function scopeOfPath(path: string): ApiTokenScope | undefined {
  return API_TOKEN_SCOPE_NAMES.find((scope) => (API_TOKEN_SCOPES[scope] as readonly string[]).includes(path));
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export interface ApiTokenView {
  id: string;
  name: string;
  scopes: ApiTokenScope[];
  teamIds: string[] | null;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const view = (row: ApiTokenRow): ApiTokenView => ({
  id: row.id,
  name: row.name,
  scopes: row.scopes as ApiTokenScope[],
  teamIds: row.teamIds,
  createdAt: row.createdAt.toISOString(),
  expiresAt: row.expiresAt.toISOString(),
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  revokedAt: row.revokedAt?.toISOString() ?? null,
});

/** Last-used is written at most this often per token, not on every read. */
const TOUCH_EVERY_MS = 60_000;

/**
 * API tokens: made by managers and admins for themselves, read-only on the report routes, and
 * never more than their creator: every use rebuilds the creator as the directory has them now
 * (a deactivated creator or one who lost the role ends the token) and narrows that.
 */
export function createApiTokens(deps: { database: Database; directory: DirectoryService; audit: AuditService; now?: () => Date }) {
  const store = createApiTokenStore(deps.database);
  const { directory, audit } = deps;
  const now = deps.now ?? (() => new Date());

  return {
    async create(
      creator: SignedInUser,
      input: { name: string; scopes: ApiTokenScope[]; teamIds?: string[] | undefined; expiresInDays?: number | undefined },
    ): Promise<{ token: string; apiToken: ApiTokenView }> {
      if (creator.apiTokenId) throw new AppError('forbidden', 'An API token cannot make API tokens');
      if (creator.role !== 'manager' && creator.role !== 'admin') throw new AppError('forbidden', 'API tokens are for managers and admins');
      const days = input.expiresInDays ?? API_TOKEN_RULES.defaultDays;
      if (!Number.isInteger(days) || days < 1 || days > API_TOKEN_RULES.maxDays) {
        throw new AppError('validation_failed', `Invalid expiresInDays: a whole number of days from 1 to ${API_TOKEN_RULES.maxDays}`, [
          { path: 'expiresInDays', problem: `1 to ${API_TOKEN_RULES.maxDays}` },
        ]);
      }
      const scopes = [...new Set(input.scopes)];
      if (scopes.length === 0) throw new AppError('validation_failed', 'Invalid scopes: choose at least one', [{ path: 'scopes', problem: 'at least one' }]);
      if (scopes.includes('reports:org') && creator.role !== 'admin') {
        throw new AppError('forbidden', 'Only admins read the org reports, so only they may give a token that scope', [
          { path: 'scopes', problem: 'reports:org needs the admin role' },
        ]);
      }
      let teamIds: string[] | null = input.teamIds === undefined ? null : [...new Set(input.teamIds)];
      if (teamIds !== null) {
        const known = new Set((await directory.listTeams(creator.orgId)).map((t) => t.id));
        const visible = creator.role === 'admin' ? known : new Set(creator.managedTeamIds.filter((id) => known.has(id)));
        const beyond = teamIds.filter((id) => !visible.has(id));
        if (beyond.length > 0)
          throw new AppError('forbidden', 'A token cannot see a team you cannot see', [{ path: 'teamIds', problem: `not yours: ${beyond.join(', ')}` }]);
        if (teamIds.length === 0)
          throw new AppError('validation_failed', 'Invalid teamIds: leave it out for all your teams, or name at least one', [
            { path: 'teamIds', problem: 'empty' },
          ]);
        if (scopes.includes('reports:org'))
          throw new AppError('validation_failed', 'Invalid scopes: the org reports cover every team; a token limited to teams cannot have them', [
            { path: 'scopes', problem: 'reports:org with teamIds' },
          ]);
      }
      const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const at = now();
      const row = await store.insert({
        id: uuidv7(),
        orgId: creator.orgId,
        userId: creator.userId,
        name: input.name,
        tokenHash: hashOf(token),
        scopes,
        teamIds,
        createdAt: at,
        expiresAt: new Date(at.getTime() + days * 86_400_000),
        revokedAt: null,
        lastUsedAt: null,
      });
      await audit.record({
        orgId: creator.orgId,
        actorType: 'user',
        actorId: creator.userId,
        action: 'api_token.created',
        details: { apiTokenId: row.id, name: row.name, scopes, teamIds, expiresAt: row.expiresAt.toISOString() },
      });
      return { token, apiToken: view(row) };
    },

    async list(user: SignedInUser): Promise<ApiTokenView[]> {
      return (await store.listForUser(user.userId)).map(view);
    },

    /** Revokes one of the person's own tokens (an admin: any of the org's); false when there is none. */
    async revoke(user: SignedInUser, id: string): Promise<boolean> {
      if (user.apiTokenId) throw new AppError('forbidden', 'An API token cannot revoke API tokens');
      const row = await store.revoke(id, user.role === 'admin' ? { orgId: user.orgId } : { userId: user.userId }, now());
      if (!row) return false;
      await audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.userId,
        action: 'api_token.revoked',
        details: { apiTokenId: row.id, name: row.name, creatorId: row.userId },
      });
      return true;
    },

    /**
     * The reader a presented token stands for, or undefined (unknown, expired, revoked, or its
     * creator no longer a manager or admin, or gone). Teams: the stored ones the creator still sees.
     */
    async resolve(token: string): Promise<{ user: SignedInUser; scopes: ApiTokenScope[] } | undefined> {
      if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 100) return undefined;
      const row = await store.findByHash(hashOf(token));
      const at = now();
      if (!row || row.revokedAt || row.expiresAt <= at) return undefined;
      const creator = await directory.findUser(row.userId);
      if (!creator || creator.deactivatedAt || creator.orgId !== row.orgId) return undefined;
      if (creator.role !== 'manager' && creator.role !== 'admin') return undefined;
      const managed = creator.role === 'manager' ? await directory.managedTeamIds(creator.id) : [];
      // A token limited to teams reads as a manager of those teams (an admin's too): never wider.
      const limited = row.teamIds !== null;
      const stored = row.teamIds ?? [];
      const teams = !limited ? managed : creator.role === 'admin' ? stored : stored.filter((id) => managed.includes(id));
      let scopes = row.scopes as ApiTokenScope[];
      if (creator.role !== 'admin') scopes = scopes.filter((s) => s !== 'reports:org');
      if (!row.lastUsedAt || at.getTime() - row.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
        await store.touch(row.id, at);
      }
      return {
        scopes,
        user: {
          userId: creator.id,
          orgId: creator.orgId,
          email: creator.email,
          name: creator.name,
          role: limited ? 'manager' : creator.role,
          managedTeamIds: teams,
          teamId: creator.teamId,
          sessionId: `api-token:${row.id}`,
          apiTokenId: row.id,
        },
      };
    },
  };
}
export type ApiTokens = ReturnType<typeof createApiTokens>;
