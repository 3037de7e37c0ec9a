import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { documentOperations, errorResponses, json, SECURITY } from '../../platform/openapi';
import { CATEGORY_RULES_PATH, CategoryRuleInput, CategoryRulesBody } from './routes';

const errors = errorResponses({
  400: 'Invalid rules; `fields` names each problem (a pattern RE2 cannot run, for instance)',
  401: 'Not signed in',
  403: 'Reading: not an admin or manager; replacing: not an admin, or the CSRF token is missing',
});

/** The org's category rules, by which rollups sort apps into categories and productivity. */
export function documentCategoriesApi(app: OpenAPIHono<AppEnv>) {
  const tags = ['categories'];
  documentOperations(app, [
    {
      operationId: 'getCategoryRules',
      method: 'get',
      path: CATEGORY_RULES_PATH,
      summary: "The org's category rules, their version, and the built-in defaults used where no rule matches",
      tags,
      security: SECURITY.session,
      responses: {
        200: {
          description: 'Rules',
          ...json(z.object({ rules: z.array(CategoryRuleInput), version: z.int(), defaults: z.array(CategoryRuleInput) })),
        },
        ...errors,
      },
    },
    {
      operationId: 'replaceCategoryRules',
      method: 'put',
      path: CATEGORY_RULES_PATH,
      summary: "Replace the org's category rules; rollups are recomputed in the background",
      tags,
      security: SECURITY.sessionWrite,
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: CategoryRulesBody,
              example: { rules: [{ app: '^code$', category: 'Development', productivity: 'productive' }] },
            },
          },
        },
      },
      responses: {
        202: { description: 'Saved; recomputing', ...json(z.object({ version: z.int(), recomputing: z.literal(true) })) },
        ...errors,
      },
    },
  ]);
}
