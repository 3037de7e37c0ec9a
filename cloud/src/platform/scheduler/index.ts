import { randomUUID } from 'node:crypto';
import cron, { type ScheduledTask, type TaskContext } from 'node-cron';
import type { Logger } from 'pino';
import type { Database, HeldLock } from '../db/client';
import { createSchedulerStore } from './store';

/** A job on a cron schedule (UTC). */
export interface CronJob {
  name: string;
  cron: string;
  run: () => Promise<unknown>;
}

export interface Scheduler {
  /** Schedules jobs in UTC; the returned stop() ends them. */
  schedule(jobs: readonly CronJob[]): { stop: () => Promise<void> };
  /** Whether this instance holds the scheduler's leadership now. */
  isLeader(): boolean;
  /** Starts competing for leadership. */
  start(): void;
  /** Gives leadership up (another instance takes over within `retryMs`). */
  stop(): Promise<void>;
}

/** The advisory lock key every instance of one deployment competes for ("icarus-scheduler"). */
const LEADER_LOCK = 0x1ca7_05ce_d01en;
/** Claims are kept this long so operators can see what ran where. */
const KEEP_CLAIMS_MS = 7 * 86_400_000;

/**
 * Jobs run once per tick across every instance on one database. One instance leads, by
 * holding a PostgreSQL advisory lock on a connection of its own; the others retry every
 * `retryMs` and one of them takes over within that time of the leader's connection ending
 * (a killed process's connection ends with it). A tick is also claimed in a table before it
 * runs, so a run never repeats while leadership changes hands. A run still going when its next
 * tick comes is not overlapped, and a failure is logged with the job's name: the next tick retries.
 */
export function createScheduler(deps: { database: Database; logger: Logger; instanceId?: string; retryMs?: number }): Scheduler {
  const { database, logger } = deps;
  const store = createSchedulerStore(database);
  const instanceId = deps.instanceId ?? randomUUID();
  const retryMs = deps.retryMs ?? 2_000;
  let lock: HeldLock | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let checking: Promise<void> = Promise.resolve();

  async function check() {
    try {
      if (lock && !(await lock.alive())) {
        logger.warn({ instanceId }, 'scheduler: lost leadership (its database connection ended)');
        lock = undefined;
      }
      if (!lock && !stopped) {
        lock = await database.tryAdvisoryLock(LEADER_LOCK);
        if (lock) logger.info({ instanceId }, 'scheduler: this instance leads');
      }
    } catch (err) {
      lock = undefined;
      logger.warn({ err, instanceId }, 'scheduler: leadership check failed; retrying');
    }
  }

  /** Runs in progress: stopping a schedule waits for them, so a claimed tick is always finished or failed. */
  const inFlight = new Set<Promise<void>>();
  const guarded = (job: CronJob) => {
    let running = false;
    const tracked = (context: TaskContext) => {
      const run = once(context);
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
      return run;
    };
    const once = async (context: TaskContext) => {
      if (running || !lock) return;
      running = true;
      const tick = new Date(Math.floor(context.date.getTime() / 1000) * 1000);
      try {
        if (!(await store.claim(job.name, tick, instanceId))) return;
        await job.run();
        await store.finish(job.name, tick);
      } catch (err) {
        logger.error({ err, job: job.name }, 'scheduled job failed');
      } finally {
        running = false;
      }
    };
    return tracked;
  };

  return {
    schedule(jobs) {
      const all = [...jobs, { name: 'scheduler-claims-cleanup', cron: '23 4 * * *', run: () => store.forget(new Date(Date.now() - KEEP_CLAIMS_MS)) }];
      const tasks: ScheduledTask[] = all.map((job) => cron.schedule(job.cron, guarded(job), { timezone: 'UTC', noOverlap: true }));
      return {
        async stop() {
          await Promise.all(tasks.map((t) => t.stop()));
          await Promise.all(tasks.map((t) => t.destroy()));
          await Promise.allSettled([...inFlight]);
        },
      };
    },
    isLeader: () => lock !== undefined,
    start() {
      if (!stopped) return;
      stopped = false;
      checking = check();
      timer = setInterval(() => {
        checking = checking.then(check);
      }, retryMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await checking;
      const held = lock;
      lock = undefined;
      await held?.release();
    },
  };
}

/** Jobs scheduled by their module; run on the leader only. */
export type ScheduleJobs = Scheduler['schedule'];
