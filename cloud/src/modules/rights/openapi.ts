import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { BomField } from '../../platform/http/csv';
import { documentOperations, errorResponses, json, SECURITY, type Operation } from '../../platform/openapi';
import { ErasureBody, ExportFormatQuery, RIGHTS_PATHS, SpansQuery } from './routes';

const errors = errorResponses({
  400: 'Invalid query or body; `fields` names each problem',
  401: 'Missing, expired or forged credentials',
  403: 'Device revoked, or not matched to a person; on the web, the CSRF token is missing',
});

const OwnSpan = z.object({
  id: z.uuid(),
  start: z.iso.datetime(),
  durationMs: z.int(),
  app: z.string().nullable(),
  title: z.string().nullable().describe('As the device sent it (full, redacted or hashed), decrypted for its owner'),
  idle: z.boolean(),
  deviceId: z.uuid(),
});
const Viewer = z.object({
  at: z.iso.datetime(),
  action: z.string(),
  actor: z.object({ id: z.uuid(), name: z.string(), role: z.enum(['manager', 'admin', 'auditor']) }),
  details: z.record(z.string(), z.unknown()),
  what: z.string().describe("What was done, in plain words after the actor's name"),
  view: z.boolean().describe("A read of the person's data, as opposed to a change that concerned them"),
  people: z.int().describe('How many people the view included: 1 is the person alone, more is a total they were one of'),
});
const Erasure = z.object({
  id: z.uuid(),
  via: z.enum(['web', 'device']),
  eraseLocal: z.boolean(),
  state: z.enum(['requested', 'completed', 'failed']),
  requestedAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
  spansRemoved: z.int().nullable(),
});

/**
 * Documents the "My data" API twice, as it is served: for the agent (device bearer, /v1/me/*)
 * and for the web app (session, /api/me/*).
 */
export function documentRightsApi(app: OpenAPIHono<AppEnv>) {
  const tags = ['my data'];
  const operations = (via: 'device' | 'web'): Operation[] => {
    const paths = RIGHTS_PATHS[via];
    const read = via === 'device' ? SECURITY.device : SECURITY.session;
    const write = via === 'device' ? SECURITY.device : SECURITY.sessionWrite;
    const id = (name: string) => (via === 'device' ? `${name}FromDevice` : name);
    return [
      {
        operationId: id('listMySpans'),
        method: 'get',
        path: paths.spans,
        summary: "The person's own spans in a time range (default: the last 24 hours), oldest first",
        tags,
        security: read,
        request: { query: SpansQuery },
        responses: {
          200: { description: 'Spans', ...json(z.object({ from: z.iso.datetime(), to: z.iso.datetime(), spans: z.array(OwnSpan), truncated: z.boolean() })) },
          ...errors,
        },
      },
      {
        operationId: id('listMyViewers'),
        method: 'get',
        path: paths.viewers,
        summary: 'Who viewed my data: every manager, admin or auditor read or change that included the person, newest first',
        tags,
        security: read,
        responses: { 200: { description: 'Views from the audit log', ...json(z.object({ viewers: z.array(Viewer) })) }, ...errors },
      },
      {
        operationId: id('exportMyData'),
        method: 'get',
        path: paths.export,
        summary: 'Everything stored about the person: JSON (with who viewed) or CSV (spans), streamed',
        tags,
        security: read,
        request: { query: ExportFormatQuery.extend({ bom: BomField.describe('1: with format=csv, start with a UTF-8 byte order mark, for Excel') }) },
        responses: {
          200: {
            description: 'The export',
            content: {
              'application/json': {
                schema: z.object({
                  person: z.object({ userId: z.uuid(), orgId: z.uuid() }),
                  generatedAt: z.iso.datetime(),
                  viewers: z.array(Viewer),
                  spans: z.array(OwnSpan),
                }),
              },
              'text/csv': { schema: z.string() },
            },
          },
          ...errors,
        },
      },
      {
        operationId: id('requestMyErasure'),
        method: 'post',
        path: paths.erasure,
        summary: "Ask for erasure of the person's spans and their share of rollups; confirmed by email and in the tray",
        tags,
        security: write,
        request: { body: { required: true, ...json(ErasureBody) } },
        responses: { 202: { description: 'Accepted; runs in the background', ...json(Erasure.pick({ id: true, state: true, requestedAt: true })) }, ...errors },
      },
      {
        operationId: id('listMyErasures'),
        method: 'get',
        path: paths.erasures,
        summary: "The person's erasure requests and their state",
        tags,
        security: read,
        responses: { 200: { description: 'Requests, newest first', ...json(z.object({ erasures: z.array(Erasure) })) }, ...errors },
      },
    ];
  };
  documentOperations(app, [...operations('device'), ...operations('web')]);
}
