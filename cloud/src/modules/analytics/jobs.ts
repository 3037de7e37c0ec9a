import { addDays, retentionStartMs } from '@icarus/shared';
import type { Logger } from 'pino';
import type { ConsentService } from '../consent';
import type { DirectoryService } from '../directory';
import type { IngestionService } from '../ingestion';
import type { ScheduleJobs } from '../../platform/scheduler';
import { focusBasis, type FocusStore } from './focus-store';
import type { AnalyticsService } from './service';

export const DEFAULT_RETENTION_DAYS = 90;
/** Days the nightly check looks back: late syncs and lost flushes land in recent days. */
export const CONSISTENCY_WINDOW_DAYS = 7;
/** How long one run of the focus upkeep may go on (it runs every minute; the rest waits a tick). */
const FOCUS_UPKEEP_BUDGET_MS = 40_000;

interface Deps {
  analytics: AnalyticsService;
  ingestion: IngestionService;
  consent: ConsentService;
  directory: DirectoryService;
  focus: FocusStore;
  logger: Logger;
}

/** The scheduled jobs as plain functions (tests call them), and a scheduler that runs them. */
export function createAnalyticsJobs(deps: Deps) {
  const { analytics, ingestion, consent, directory, focus, logger } = deps;
  /** Per org, the settings whose stamp this process has made the only one left (see forgetOtherBases). */
  const settled = new Map<string, string>();

  async function retentionOf(orgId: string): Promise<number> {
    const policy = await consent.currentPolicy(orgId).catch(() => undefined);
    return policy?.content.retentionDays ?? DEFAULT_RETENTION_DAYS;
  }

  const jobs = {
    /**
     * Raw spans older than each org's retention go. Whole daily partitions older than the
     * longest retention are dropped; orgs with a shorter one have their older rows deleted.
     */
    async retention(now: Date): Promise<{ droppedPartitions: string[]; deletedRows: number }> {
      const orgs = await ingestion.orgIdsWithSpans();
      const retention = new Map<string, number>();
      for (const orgId of orgs) retention.set(orgId, await retentionOf(orgId));
      const longest = Math.max(DEFAULT_RETENTION_DAYS, ...retention.values());
      const cutoff = (days: number) => new Date(retentionStartMs(now.getTime(), days));
      const droppedPartitions = await ingestion.dropPartitionsBefore(cutoff(longest));
      let deletedRows = 0;
      for (const [orgId, days] of retention) if (days < longest) deletedRows += await ingestion.deleteOrgSpansBefore(orgId, cutoff(days));
      logger.info({ droppedPartitions: droppedPartitions.length, deletedRows, longest }, 'retention: raw spans removed');
      return { droppedPartitions, deletedRows };
    },

    /** Creates the coming days' partitions so inserts never fall into the default one. */
    async partitionUpkeep(now: Date): Promise<string[]> {
      return ingestion.preparePartitions(now);
    },

    /** Rebuilds any recent day whose rollups differ from the raw spans. */
    async consistencyCheck(now: Date, windowDays = CONSISTENCY_WINDOW_DAYS): Promise<{ orgId: string; repairedDays: string[] }[]> {
      const results: { orgId: string; repairedDays: string[] }[] = [];
      for (const orgId of await ingestion.orgIdsWithSpans()) {
        const today = now.toISOString().slice(0, 10);
        const { repairedDays } = await analytics.checkConsistency(orgId, addDays(today, -windowDays), addDays(today, 1));
        results.push({ orgId, repairedDays });
      }
      return results;
    },

    /**
     * Stores the focus and after-hours figures of every person-day that owes them (today's with
     * spans since the last run, days rebuilt or never computed), newest first, until done or
     * `budgetMs` has passed. An org's rows computed under other settings (its working week
     * changed) are cleared first, once per change.
     */
    async focusUpkeep(budgetMs = FOCUS_UPKEEP_BUDGET_MS): Promise<{ stored: number; cleared: number }> {
      const started = Date.now();
      let stored = 0;
      let cleared = 0;
      for (const orgId of await ingestion.orgIdsWithSpans()) {
        const org = await directory.findOrg(orgId);
        if (!org) continue;
        const week = org.workingWeek;
        const basis = focusBasis(org.timeZone, week);
        if (settled.get(orgId) !== basis) {
          cleared += await focus.forgetOtherBases(orgId, basis);
          settled.set(orgId, basis);
        }
        for (let more = true; more && Date.now() - started < budgetMs;) {
          const page = await focus.fill(orgId, org.timeZone, week);
          stored += page.stored;
          more = page.more;
        }
      }
      if (stored > 0 || cleared > 0) logger.info({ stored, cleared }, 'analytics: focus figures stored');
      return { stored, cleared };
    },
  };

  return {
    ...jobs,
    /** Schedules the jobs (UTC); the returned stop() ends them. */
    schedule(scheduleJobs: ScheduleJobs): { stop: () => Promise<void> } {
      return scheduleJobs([
        { name: 'partition-upkeep', cron: '17 * * * *', run: () => jobs.partitionUpkeep(new Date()) },
        { name: 'retention', cron: '40 2 * * *', run: () => jobs.retention(new Date()) },
        { name: 'consistency-check', cron: '10 3 * * *', run: () => jobs.consistencyCheck(new Date()) },
        { name: 'focus-upkeep', cron: '5 * * * * *', run: () => jobs.focusUpkeep() },
      ]);
    },
  };
}
export type AnalyticsJobs = ReturnType<typeof createAnalyticsJobs>;
