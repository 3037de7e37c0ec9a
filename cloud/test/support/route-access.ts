import { ROLES, type Role } from '@icarus/shared';

export const ALL_ROLES = ROLES;

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
  'POST /api/audit/verify': { roles: ['admin', 'auditor'] },
  'POST /api/directory/import': { roles: ['admin'] },
  // The account lifecycle (identity/account-routes.tsx): one's own sessions and password; invitations for admins.
  'GET /api/account/sessions': { roles: ALL_ROLES },
  'POST /api/account/password': { roles: ALL_ROLES },
  'GET /api/invitations/pending': { roles: ['admin'] },
  'POST /api/invitations': { roles: ['admin'] },

  // Admin (admin/api.ts). Listing, reading and approving policy versions pass the route guard
  // for any role, because works-council members may hold any role; the drafts service then
  // admits admins and works-council members only. The list is checked as admin-only (the test
  // orgs have no works-council member); reading one version and approving stay unlisted, since
  // the matrix's probe path names no version and so meets "not found" before that check.
  'GET /api/admin/policies': { roles: ['admin'] },
  'POST /api/admin/policies': { roles: ['admin'] },
  'PUT /api/admin/policies/:version': { roles: ['admin'] },
  'POST /api/admin/policies/:version/submit': { roles: ['admin'] },
  'POST /api/admin/policies/:version/reopen': { roles: ['admin'] },
  'POST /api/admin/policies/:version/publish': { roles: ['admin'] },
  'GET /api/admin/people/:userId/consent-history': { roles: ['admin'] },
  'GET /api/admin/enrollment-tokens': { roles: ['admin'] },
  'POST /api/admin/enrollment-tokens': { roles: ['admin'] },
  'POST /api/admin/enrollment-tokens/:tokenId/revoke': { roles: ['admin'] },
  'GET /api/admin/devices': { roles: ['admin'] },
  'POST /api/admin/devices/:deviceId/revoke': { roles: ['admin'] },
  'GET /api/admin/working-week': { roles: ['admin'] },
  'PUT /api/admin/working-week': { roles: ['admin'] },

  // SCIM connections and the setting for deprovisioned people's data (provisioning/admin-routes.tsx).
  'GET /api/admin/provisioning/connections': { roles: ['admin'] },
  'POST /api/admin/provisioning/connections': { roles: ['admin'] },
  'POST /api/admin/provisioning/connections/:connectionId/revoke': { roles: ['admin'] },
  'GET /api/admin/provisioning/settings': { roles: ['admin'] },
  'PUT /api/admin/provisioning/settings': { roles: ['admin'] },

  // Audit log and compliance report (audit/routes.ts).
  'GET /api/audit/events': { roles: ['admin', 'auditor'] },
  'GET /api/audit/export.csv': { roles: ['admin', 'auditor'] },
  'GET /api/compliance/report': { roles: ['admin', 'auditor'] },
  'GET /api/compliance/report.csv': { roles: ['admin', 'auditor'] },

  // Reports (reporting/routes.ts) and the category rules they are built with (analytics/routes.ts).
  // Anyone may ask for person detail: their own always, others' as the policy and consent allow.
  'GET /api/reports/teams': { roles: ['manager', 'admin'] },
  'GET /api/reports/team-summary': { roles: ['manager', 'admin'] },
  'GET /api/reports/team-trend': { roles: ['manager', 'admin'] },
  'GET /api/reports/team-apps': { roles: ['manager', 'admin'] },
  'GET /api/reports/team-people': { roles: ['manager', 'admin'] },
  'GET /api/reports/org-trend': { roles: ['admin'] },
  'GET /api/reports/team-comparison': { roles: ['admin'] },
  'GET /api/reports/person': { roles: ALL_ROLES },
  'GET /api/reports/consent-coverage': { roles: ['admin', 'auditor'] },
  'GET /api/reports/device-health': { roles: ['admin'] },
  // The guard admits managers and admins; without a teamId (as the matrix calls it) the export
  // is the whole org per person, which the reports service keeps to admins.
  'GET /api/reports/export.csv': { roles: ['admin'] },
  'GET /api/categories/rules': { roles: ['admin', 'manager'] },
  'PUT /api/categories/rules': { roles: ['admin'] },

  // Notifications (notification/routes.ts): own preferences for all, the org's webhooks for admins.
  'GET /api/me/notifications': { roles: ALL_ROLES },
  'PUT /api/me/notifications': { roles: ALL_ROLES },
  'GET /api/notifications/webhooks': { roles: ['admin'] },
  'POST /api/notifications/webhooks': { roles: ['admin'] },
  'DELETE /api/notifications/webhooks/:id': { roles: ['admin'] },
  'POST /api/notifications/webhooks/:id/test': { roles: ['admin'] },
  'GET /api/notifications/deliveries': { roles: ['admin'] },

  // Employee data rights on the web (rights/routes.ts): every person, for their own data.
  'GET /api/me/spans': { roles: ALL_ROLES },
  'GET /api/me/viewers': { roles: ALL_ROLES },
  'GET /api/me/export': { roles: ALL_ROLES },
  'POST /api/me/erasure': { roles: ALL_ROLES },
  'GET /api/me/erasures': { roles: ALL_ROLES },
};
