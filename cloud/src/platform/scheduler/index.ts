import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

/** A job on a cron schedule (UTC). */
export interface CronJob {
  name: string;
  cron: string;
  run: () => Promise<unknown>;
}

/**
 * Schedules jobs in UTC. A run still going when its next tick comes is not overlapped, and a
 * failure is logged with the job's name rather than ending the process: the next tick retries.
 * The returned stop() ends the schedule.
 */
export function scheduleJobs(logger: Logger, jobs: readonly CronJob[]): { stop: () => Promise<void> } {
  const guarded = (job: CronJob) => {
    let running = false;
    return async () => {
      if (running) return;
      running = true;
      try {
        await job.run();
      } catch (err) {
        logger.error({ err, job: job.name }, 'scheduled job failed');
      } finally {
        running = false;
      }
    };
  };
  const tasks: ScheduledTask[] = jobs.map((job) => cron.schedule(job.cron, guarded(job), { timezone: 'UTC', noOverlap: true }));
  return {
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.all(tasks.map((t) => t.destroy()));
    },
  };
}
