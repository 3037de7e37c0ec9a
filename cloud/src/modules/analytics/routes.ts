import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { safeText } from '@icarus/shared';
import type { AppEnv, RequireUser } from '../../platform/env';
import { readJson } from '../../platform/http/body';
import { RE2_PATTERN_PROBLEM } from '../../platform/patterns';
import { isValidPattern } from './categories';
import type { AnalyticsService } from './service';

const Pattern = safeText(z.string().min(1).max(512)).refine(isValidPattern, { message: RE2_PATTERN_PROBLEM });
export const CategoryRuleInput = z.strictObject({
  app: Pattern,
  title: Pattern.optional(),
  category: safeText(z.string().min(1).max(80)),
  productivity: z.enum(['productive', 'neutral', 'unproductive']),
});
export const CategoryRulesBody = z.strictObject({ rules: z.array(CategoryRuleInput).max(500) });

export const CATEGORY_RULES_PATH = '/api/categories/rules';

/** Org category rules: admins read and replace them; a change recomputes rollups in the background. */
export function analyticsRoutes(deps: { analytics: AnalyticsService; requireUser: RequireUser; maxBodyBytes: number }) {
  return new Hono<AppEnv>()
    .get(CATEGORY_RULES_PATH, deps.requireUser('admin', 'manager'), async (c) => c.json(await deps.analytics.rules(c.get('user').orgId)))
    .put(CATEGORY_RULES_PATH, deps.requireUser('admin'), async (c) => {
      const body = await readJson(c, CategoryRulesBody, deps.maxBodyBytes);
      const user = c.get('user');
      const { version } = await deps.analytics.setRules(user.orgId, body.rules, user.userId);
      return c.json({ version, recomputing: true }, 202);
    });
}
