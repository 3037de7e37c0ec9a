import type { SignedInUser } from '../env';

type Role = SignedInUser['role'];
export const ALL_ROLES: readonly Role[] = ['employee', 'manager', 'admin', 'auditor'];

/**
 * Who may call each API route, keyed "METHOD /path" as registered. The role x route test
 * walks every registered /api route: one listed here is checked against this entry; one
 * not listed must at least refuse anyone not signed in. Add a line when adding a route
 * whose roles are narrower than "any signed-in person".
 */
export const ROUTE_ACCESS: Record<string, { public: true } | { roles: readonly Role[]; endsSession?: true }> = {
  'POST /api/session': { public: true },
  'DELETE /api/session': { roles: ALL_ROLES, endsSession: true },
  'POST /api/session/totp': { roles: ALL_ROLES },
  'GET /api/me': { roles: ALL_ROLES },
  'POST /api/account/totp': { roles: ALL_ROLES },
  'POST /api/account/totp/confirm': { roles: ALL_ROLES },
  'GET /api/audit/verify': { roles: ['admin', 'auditor'] },
  'POST /api/directory/import': { roles: ['admin'] },
};
