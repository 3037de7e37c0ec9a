import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { BomField } from '../../platform/http/csv';
import { csvResponse, documentOperations, errorResponses, json, SECURITY } from '../../platform/openapi';
import { RecordedFullVerificationSchema, SinceCheckpointVerificationSchema } from '../audit';
import { EmployeeNotice, NOTICE_PATHS, NoticeAcknowledgment, NoticeAcknowledgmentRequest } from '@icarus/shared';
import { PeriodQuery } from './report';
import { COMPLIANCE_API } from './routes';

const errors = errorResponses({
  400: 'Invalid period; `fields` names each problem',
  401: 'Not signed in',
  403: 'Not an admin or auditor',
});

const ComplianceReport = z.object({
  period: z.object({ from: z.string(), to: z.string() }),
  generatedAt: z.iso.datetime(),
  currentPolicyVersion: z.int().nullable(),
  coverage: z.array(z.looseObject({ teamId: z.uuid().nullable(), teamName: z.string(), people: z.int(), granted: z.int() })),
  withdrawals: z.array(z.looseObject({ name: z.string(), deviceId: z.uuid(), at: z.iso.datetime() })),
  erasures: z.array(z.looseObject({ at: z.iso.datetime(), action: z.string() })),
  personalDataAccess: z.array(z.object({ action: z.string(), events: z.int(), actors: z.int(), people: z.int() })),
  chain: z
    .object({
      sinceCheckpoint: SinceCheckpointVerificationSchema.describe('Walked now: from the newest valid signed checkpoint to the head'),
      lastFull: RecordedFullVerificationSchema.nullable().describe('The newest recorded walk of the whole chain (the nightly job); null: never yet'),
      verifyPath: z.string().describe('Walks the whole chain on demand'),
    })
    .describe('The audit chain: the walk since the checkpoint done now, and the last walk of the whole chain'),
  checkpoint: z.looseObject({ jws: z.string() }).nullable().describe('The signed checkpoint of the audit chain as of this report'),
  checkpointKeys: z.string().describe('Where the key that signed the checkpoint is published'),
});

/** The compliance report for a period: consent coverage, withdrawals, erasures, access to personal data, the audit chain. */
export function documentComplianceApi(app: OpenAPIHono<AppEnv>) {
  const tags = ['compliance'];
  documentOperations(app, [
    {
      operationId: 'getComplianceReport',
      method: 'get',
      path: COMPLIANCE_API.report,
      summary: 'The compliance report for a period of whole UTC days',
      tags,
      security: SECURITY.session,
      request: { query: PeriodQuery },
      responses: { 200: { description: 'The report', ...json(ComplianceReport) }, ...errors },
    },
    {
      operationId: 'exportComplianceReportCsv',
      method: 'get',
      path: COMPLIANCE_API.reportCsv,
      summary: 'The compliance report as one CSV table: a `section` column says which part of the report each row is',
      tags,
      security: SECURITY.session,
      request: { query: PeriodQuery.safeExtend({ bom: BomField }) },
      responses: { 200: csvResponse('One header row, then the rows of every section'), ...errors },
    },
  ]);

  // The employee notice on the device, for the person the device is bound to.
  const deviceErrors = errorResponses({
    400: 'Invalid body; `fields` names each problem (unknown fields too)',
    401: 'Missing, expired, forged or replayed device credentials',
    403: 'Device revoked, or (device_unbound) bound to no person',
    415: 'Not application/json',
    429: 'Rate limited; see Retry-After',
  });
  documentOperations(app, [
    {
      operationId: 'getEmployeeNotice',
      method: 'get',
      path: NOTICE_PATHS.notice,
      summary: 'The employee notice of the policy version in force, and whether the device’s person acknowledged it',
      description:
        'The agent shows it at consent time and when a new policy version is published. An acknowledgment given on the web or on another of the person’s devices counts.',
      tags: ['device'],
      security: SECURITY.device,
      responses: { 200: { description: 'The notice', ...json(EmployeeNotice) }, ...deviceErrors },
    },
    {
      operationId: 'acknowledgeEmployeeNotice',
      method: 'post',
      path: NOTICE_PATHS.acknowledgment,
      summary: 'The device’s person acknowledges the notice of the version in force (once per version, audited)',
      tags: ['device'],
      security: SECURITY.device,
      request: { body: { required: true, ...json(NoticeAcknowledgmentRequest) } },
      responses: {
        200: { description: 'Acknowledged before: the first acknowledgment stands', ...json(NoticeAcknowledgment) },
        201: { description: 'Acknowledged now', ...json(NoticeAcknowledgment) },
        ...deviceErrors,
        ...errorResponses({ 409: 'A newer policy version is in force, or the hash is not that of the version named: show the notice again' }),
      },
    },
  ]);
}
