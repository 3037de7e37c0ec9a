import type { OpenAPIHono } from '@hono/zod-openapi';
import { PolicyChange, PolicyDiff } from '@icarus/shared';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { documentOperations, errorResponses, json, SECURITY } from '../../platform/openapi';
import { DiffQuery, POLICY_DIFF_PATH } from './routes';

/** PolicyDiff as documented: `before` and `after` are any JSON value (z.json() is recursive, which the generator cannot write out). */
export const PolicyDiffSchema = PolicyDiff.extend({
  changes: z.array(PolicyChange.extend({ before: z.unknown().describe('Any JSON value'), after: z.unknown().describe('Any JSON value') })),
});

/** The device side of consent beyond the wire core: what changed between policy versions. */
export function documentConsentApi(app: OpenAPIHono<AppEnv>) {
  documentOperations(app, [
    {
      operationId: 'getPolicyDiff',
      method: 'get',
      path: POLICY_DIFF_PATH,
      summary: 'What changed between two published policy versions (default: the one before the current, and the current)',
      tags: ['device'],
      security: SECURITY.device,
      request: { query: DiffQuery },
      responses: {
        200: { description: 'The changes; `widens` marks those that ask more of the person', ...json(PolicyDiffSchema) },
        ...errorResponses({
          400: 'Invalid query; `fields` names each problem',
          401: 'Missing, expired or forged credentials',
          403: 'Device revoked',
          404: 'No such published policy version',
        }),
      },
    },
  ]);
}
