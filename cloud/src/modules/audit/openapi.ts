import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { BomField } from '../../platform/http/csv';
import { csvResponse, documentOperations, errorResponses, json, SECURITY } from '../../platform/openapi';
import { AUDIT_API } from './routes';
import { AuditQuery } from './viewer';

const errors = errorResponses({
  400: 'Invalid query; `fields` names each problem',
  401: 'Not signed in',
  403: 'Not an admin or auditor',
});

const AuditEvent = z.object({
  seq: z.int(),
  at: z.iso.datetime(),
  actorType: z.string(),
  actorId: z.string(),
  action: z.string(),
  subjectUserIds: z.array(z.uuid()),
  details: z.record(z.string(), z.unknown()),
  hash: z.string().describe('Hash of this entry chained to the one before'),
});

/** The audit log for admins and auditors: a page of events, and all of them as CSV. */
export function documentAuditApi(app: OpenAPIHono<AppEnv>) {
  const tags = ['audit'];
  documentOperations(app, [
    {
      operationId: 'listAuditEvents',
      method: 'get',
      path: AUDIT_API.events,
      summary: 'A page of audit events, newest first, filtered by actor, action (prefix with `*`), subject and time',
      tags,
      security: SECURITY.session,
      request: { query: AuditQuery.out },
      responses: {
        200: {
          description: 'Events; `nextBefore` is the `before` of the next page (null at the end)',
          ...json(z.object({ events: z.array(AuditEvent), nextBefore: z.int().nullable() })),
        },
        ...errors,
      },
    },
    {
      operationId: 'exportAuditCsv',
      method: 'get',
      path: AUDIT_API.exportCsv,
      summary: 'The filtered audit events as CSV, with the signed checkpoint they chain to',
      tags,
      security: SECURITY.session,
      request: { query: AuditQuery.out.extend({ bom: BomField }) },
      responses: { 200: csvResponse('One header row, then one row per event'), ...errors },
    },
  ]);
}
