import { addDays } from '@icarus/shared';
import type { Logger } from 'pino';
import type { AuditService } from '../audit';
import { teamOnDay, type DirectoryService } from '../directory';
import type { DeviceIdentity } from '../devices';
import { AppError } from '../../platform/errors';
import type { IngestionService } from '../ingestion';
import type { InsertedSpan } from '../ingestion';
import type { RollupEraser } from './erase-store';
import { createCategorizer, DEFAULT_RULES, type Categorizer } from './categories';
import { aggregate, dayInZone, type SpanFact } from './rollup';
import type { AnalyticsStore } from './store';
import type { CategoryRule } from './tables';

interface Deps {
  store: AnalyticsStore;
  eraser: RollupEraser;
  ingestion: IngestionService;
  directory: DirectoryService;
  audit: AuditService;
  logger: Logger;
  /** How often queued spans are flushed into the rollups. */
  flushIntervalMs?: number;
  now?: () => Date;
}

interface OrgContext {
  timeZone: string;
  dayOf: (at: Date) => string;
  categorizer: Categorizer;
  teams: Map<string, string | null>;
  /** The team a person was in on a day (membership history; the current team for people without one). */
  teamOf: (userId: string, day: string) => string | null;
  loadedAt: number;
}

const TEAM_CACHE_MS = 60_000;
/** Days rebuilt per statement group: bounded memory whatever the range. */
const REBUILD_CHUNK_DAYS = 7;

export function createAnalyticsService(deps: Deps) {
  const { store, ingestion, directory, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const contexts = new Map<string, Promise<OrgContext>>();
  let queue: { orgId: string; userId: string; spans: InsertedSpan[] }[] = [];
  /** Flushes, rebuilds and rule changes run one at a time, so a rebuild never races a flush. */
  let chain: Promise<unknown> = Promise.resolve();
  const background = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;

  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = chain.then(work, work);
    chain = run.catch(() => undefined);
    return run;
  }

  function inBackground(what: string, work: () => Promise<unknown>) {
    const p = work().catch((err: unknown) => logger.error({ err }, `analytics: ${what} failed`));
    background.add(p);
    void p.finally(() => background.delete(p));
  }

  async function loadContext(orgId: string): Promise<OrgContext> {
    const org = await directory.findOrg(orgId);
    if (!org) throw new AppError('not_found', 'No such organisation');
    const [saved, members, history] = await Promise.all([store.rules(orgId), directory.listMembers(orgId), directory.membershipHistory(orgId)]);
    const teams = new Map(members.map((m) => [m.id, m.teamId]));
    const teamOn = teamOnDay(history);
    return {
      timeZone: org.timeZone,
      dayOf: dayInZone(org.timeZone),
      categorizer: createCategorizer(saved?.rules ?? []),
      teams,
      teamOf: (userId, day) => teamOn(userId, day, teams.get(userId) ?? null),
      loadedAt: Date.now(),
    };
  }

  async function context(orgId: string): Promise<OrgContext> {
    let ctx = contexts.get(orgId);
    if (ctx) {
      const loaded = await ctx.catch(() => undefined);
      if (loaded && Date.now() - loaded.loadedAt < TEAM_CACHE_MS) return loaded;
    }
    ctx = loadContext(orgId);
    contexts.set(orgId, ctx);
    ctx.catch(() => contexts.delete(orgId));
    return ctx;
  }

  async function flushNow(): Promise<number> {
    if (queue.length === 0) return 0;
    const taken = queue;
    queue = [];
    let count = 0;
    const byOrg = new Map<string, typeof taken>();
    for (const item of taken) byOrg.set(item.orgId, [...(byOrg.get(item.orgId) ?? []), item]);
    for (const [orgId, items] of byOrg) {
      let ctx = await context(orgId);
      // Someone new to the cached directory (just imported or enrolled): reload it once.
      if (items.some((item) => !ctx.teams.has(item.userId))) {
        contexts.delete(orgId);
        ctx = await context(orgId);
      }
      const { dayOf } = ctx;
      const facts = function* (): Generator<SpanFact> {
        for (const item of items) {
          for (const s of item.spans) {
            yield { userId: item.userId, day: dayOf(s.start), app: s.app, title: s.title ?? null, idle: s.idle, ms: s.durationMs, spans: 1 };
          }
        }
      };
      const changes = aggregate(orgId, facts(), ctx.categorizer, ctx.teamOf);
      try {
        await store.addDeltas(changes);
      } catch (err) {
        // Lost deltas are found and repaired by the consistency check; never block ingestion.
        logger.error({ err, orgId, spans: items.length }, 'analytics: rollup flush failed');
        continue;
      }
      for (const item of items) count += item.spans.length;
    }
    return count;
  }

  /** Rebuilds [fromDay, toDay] of one org from raw spans (categories as the rules say now). */
  async function rebuildNow(orgId: string, fromDay: string, toDay: string): Promise<void> {
    contexts.delete(orgId);
    const ctx = await context(orgId);
    for (let from = fromDay; from <= toDay; from = addDays(from, REBUILD_CHUNK_DAYS)) {
      const to = addDays(from, REBUILD_CHUNK_DAYS - 1) < toDay ? addDays(from, REBUILD_CHUNK_DAYS - 1) : toDay;
      let facts: SpanFact[];
      if (ctx.categorizer.hasTitleRules) {
        const spans = await ingestion.spansForRollup(orgId, from, to, ctx.timeZone);
        facts = spans.map((s) => ({ userId: s.userId, day: s.day, app: s.app, title: s.title, idle: s.idle, ms: s.durationMs, spans: 1 }));
      } else {
        const totals = await ingestion.spanTotals(orgId, from, to, ctx.timeZone, true);
        facts = totals.map((t) => ({ userId: t.user_id, day: t.day, app: t.app, title: null, idle: t.idle, ms: t.ms, spans: t.spans }));
      }
      await store.replaceDays(orgId, from, to, aggregate(orgId, facts, ctx.categorizer, ctx.teamOf));
    }
  }

  return {
    /** The onInserted listener: queues only, so ingestion never waits for rollups. */
    enqueue(owner: DeviceIdentity, spans: InsertedSpan[]) {
      if (owner.userId === null || spans.length === 0) return;
      queue.push({ orgId: owner.orgId, userId: owner.userId, spans });
    },

    /** Writes everything queued so far into the rollups; returns how many spans it wrote. */
    flush: () => exclusive(flushNow),

    start(intervalMs = deps.flushIntervalMs ?? 1000) {
      if (timer) return;
      timer = setInterval(() => {
        if (queue.length > 0) void exclusive(flushNow).catch((err: unknown) => logger.error({ err }, 'analytics: flush failed'));
      }, intervalMs);
      timer.unref();
    },

    /** Stops the flush timer and writes what is still queued. */
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await Promise.allSettled([...background]);
      await exclusive(flushNow);
    },

    /** Resolves when background rebuilds (after a rule change) have finished: tests and shutdown. */
    async idle() {
      while (background.size > 0) await Promise.allSettled([...background]);
      await exclusive(async () => undefined);
    },

    /** Erasure: the person leaves every rollup, old days too (see erase.ts); queued deltas are written first. */
    eraseUser: (orgId: string, userId: string) =>
      exclusive(async () => {
        await flushNow();
        return deps.eraser.eraseUser(orgId, userId);
      }),

    /** After a bulk load (the demo seed): fresh planner statistics for the rollups. */
    analyzeRollups: () => store.analyzeRollups(),

    rebuild(orgId: string, fromDay: string, toDay: string) {
      return exclusive(async () => {
        await flushNow();
        await rebuildNow(orgId, fromDay, toDay);
      });
    },

    /**
     * Compares each person-day of [fromDay, toDay] with the raw spans and rebuilds the days
     * that differ: the repair path for deltas lost in a crash or a failed flush.
     */
    async checkConsistency(orgId: string, fromDay: string, toDay: string): Promise<{ checkedDays: number; repairedDays: string[] }> {
      await this.flush();
      const ctx = await context(orgId);
      const [raw, rolled, rolledDays] = await Promise.all([
        ingestion.spanTotals(orgId, fromDay, toDay, ctx.timeZone, false),
        store.dailyTotals(orgId, fromDay, toDay),
        store.rolledUpDays(orgId, fromDay, toDay),
      ]);
      const expected = new Map<string, { active: number; idle: number; spans: number }>();
      for (const r of raw) {
        const key = `${r.user_id}|${r.day}`;
        const e = expected.get(key) ?? { active: 0, idle: 0, spans: 0 };
        if (r.idle) e.idle += r.ms;
        else e.active += r.ms;
        e.spans += r.spans;
        expected.set(key, e);
      }
      const bad = new Set<string>();
      const days = new Set<string>([...raw.map((r) => r.day), ...rolledDays]);
      for (const r of rolled) {
        const key = `${r.user_id}|${r.day}`;
        const e = expected.get(key);
        if (!e || e.active !== r.active_ms || e.idle !== r.idle_ms || e.spans !== r.spans) bad.add(r.day);
        expected.delete(key);
      }
      for (const key of expected.keys()) bad.add(key.slice(key.indexOf('|') + 1));
      const repairedDays = [...bad].sort();
      for (const day of repairedDays) await this.rebuild(orgId, day, day);
      if (repairedDays.length > 0) logger.warn({ orgId, repairedDays }, 'analytics: rollups differed from raw spans; rebuilt');
      return { checkedDays: days.size, repairedDays };
    },

    async rules(orgId: string): Promise<{ rules: CategoryRule[]; version: number; defaults: readonly CategoryRule[] }> {
      const saved = await store.rules(orgId);
      return { rules: saved?.rules ?? [], version: saved?.version ?? 0, defaults: DEFAULT_RULES };
    },

    /**
     * Saves an org's rules and rebuilds its rollups over the retention window in the
     * background; reports show the old categories until each chunk is replaced.
     */
    async setRules(orgId: string, rules: CategoryRule[], actorUserId: string, rebuildDays = 90): Promise<{ version: number }> {
      const version = await store.saveRules(orgId, rules, actorUserId);
      contexts.delete(orgId);
      await deps.audit.record({ orgId, actorType: 'user', actorId: actorUserId, action: 'categories.updated', details: { version, rules: rules.length } });
      const ctx = await context(orgId);
      const today = ctx.dayOf(now());
      inBackground('recategorize', () => this.rebuild(orgId, addDays(today, -rebuildDays), addDays(today, 1)));
      return { version };
    },

    /** Today in the org's zone, and its time zone (reports default their range from it). */
    async orgCalendar(orgId: string): Promise<{ today: string; timeZone: string }> {
      const ctx = await context(orgId);
      return { today: ctx.dayOf(now()), timeZone: ctx.timeZone };
    },
  };
}
export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
