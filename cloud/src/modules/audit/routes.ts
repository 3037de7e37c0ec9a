import { Hono } from 'hono';
import type { AppEnv, RequireUser } from '../../platform/env';
import { readQuery } from '../../platform/http/query';
import { csvResponse, readCsvQuery } from '../../platform/http/csv';
import type { AuditService } from './service';
import { AuditQuery, type AuditViewer } from './viewer';

export const AUDIT_API = {
  events: '/api/audit/events',
  exportCsv: '/api/audit/export.csv',
  /** Public: the key that signs checkpoints, for verifiers outside. */
  keys: '/v1/audit-keys',
} as const;

/** The audit log as JSON and CSV, for admins and auditors. */
export function auditApiRoutes(deps: { viewer: AuditViewer; requireUser: RequireUser }) {
  const readers = deps.requireUser('admin', 'auditor');
  return new Hono<AppEnv>()
    .get(AUDIT_API.events, readers, async (c) => c.json(await deps.viewer.page(c.get('user'), readQuery(c, AuditQuery))))
    .get(AUDIT_API.exportCsv, readers, async (c) => {
      const { query, bom } = readCsvQuery(c, AuditQuery);
      return csvResponse(await deps.viewer.exportCsv(c.get('user'), query), 'audit-log.csv', { bom });
    });
}

/** The checkpoint key as a JWKS: public, like the receipt keys, since whoever kept a checkpoint verifies it. */
export function auditKeyRoutes(deps: { audit: AuditService }) {
  return new Hono<AppEnv>().get(AUDIT_API.keys, async (c) => c.json(await deps.audit.checkpointKeys()));
}
