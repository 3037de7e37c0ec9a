// The analytics module: daily rollups fed from newly stored spans, categories, retention and the nightly check.
import type { Logger } from 'pino';
import type { Database } from '../../platform/db/client';
import type { RequireUser } from '../../platform/env';
import type { Metrics } from '../../platform/metrics';
import type { AuditService } from '../audit';
import type { ConsentService } from '../consent';
import type { DirectoryService } from '../directory';
import type { IngestionService } from '../ingestion';
import { previewRange, previewRules } from './category-preview';
import { createCategoriesStore } from './categories-store';
import { createRollupEraser } from './erase-store';
import { createFocusStore } from './focus-store';
import { createAnalyticsJobs } from './jobs';
import { createRollupQueries } from './query-store';
import { analyticsRoutes } from './routes';
import type { CategoryRule } from './tables';
import { createAnalyticsService } from './service';
import { createAnalyticsStore } from './store';

export function createAnalyticsModule(deps: {
  database: Database;
  ingestion: IngestionService;
  directory: DirectoryService;
  consent: ConsentService;
  audit: AuditService;
  logger: Logger;
  metrics: Metrics;
}) {
  const service = createAnalyticsService({
    database: deps.database,
    store: createAnalyticsStore(deps.database),
    storeIn: createAnalyticsStore,
    eraserIn: createRollupEraser,
    metrics: deps.metrics,
    ingestion: deps.ingestion,
    directory: deps.directory,
    audit: deps.audit,
    logger: deps.logger,
  });
  // Rollups are fed from the outbox ingestion writes beside the spans; a local insert only
  // wakes the consumer sooner (other instances' batches are found by polling).
  deps.ingestion.onInserted((owner, spans) => service.inserted(owner, spans));
  const categoriesStore = createCategoriesStore(deps.database);
  const jobs = createAnalyticsJobs({
    analytics: service,
    ingestion: deps.ingestion,
    consent: deps.consent,
    directory: deps.directory,
    focus: createFocusStore(deps.database),
    logger: deps.logger,
  });
  return {
    service,
    jobs,
    /** What proposed category rules would move, over the org's last 28 days of rollups (nothing saved). */
    async previewRules(orgId: string, rules: readonly CategoryRule[]) {
      const range = previewRange((await service.orgCalendar(orgId)).today);
      return previewRules(rules, await categoriesStore.appTimes(orgId, range.from, range.to), range);
    },
    /** Read-only queries over the rollups, for the reporting module. */
    queries: createRollupQueries(deps.database),
    /** `/api/categories/rules`. */
    routes: (options: { requireUser: RequireUser; maxBodyBytes: number }) => analyticsRoutes({ analytics: service, ...options }),
    start() {
      service.start();
    },
    /** The schedule ends first, then the consumer; owed batches stay in the outbox. */
    async stop() {
      await service.stop();
    },
  };
}
export type AnalyticsModule = ReturnType<typeof createAnalyticsModule>;

export type { AnalyticsService } from './service';
export type { AnalyticsJobs } from './jobs';
export type { RollupQueries, ExportRow, ExportValues, UserAppTotal, UserDayTotal, WeekTotal, GroupDayCell, OrgCells, FocusDay } from './query-store';
export { FOCUS_GAP_MS, FOCUS_MIN_MS } from './focus-store';
export type { CategoryRule, Productivity } from './tables';
export { DEFAULT_RULES, DEFAULT_RULES_RULE } from './categories';
export { CategoryRuleInput } from './routes';
export type { CategoryPreview } from './category-preview';
export { documentCategoriesApi } from './openapi';
export { dayInZone } from './rollup';
