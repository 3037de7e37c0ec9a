import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { BomField } from '../../platform/http/csv';
import { csvResponse, documentOperations, errorResponses, json, SECURITY } from '../../platform/openapi';
import { ChainVerificationSchema } from '../audit';
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
  chain: ChainVerificationSchema,
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
}
