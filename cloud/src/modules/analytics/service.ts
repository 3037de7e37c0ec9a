import { addDays } from '@icarus/shared';
import type { Logger } from 'pino';
import type { AuditService } from '../audit';
import { teamOnDay, type DirectoryService } from '../directory';
import type { DeviceIdentity } from '../devices';
import { AppError } from '../../platform/errors';
import type { IngestionService } from '../ingestion';
import type { InsertedSpan } from '../ingestion';
import type { Database } from '../../platform/db/client';
import type { Metrics } from '../../platform/metrics';
import type { RollupEraser } from './erase-store';
import { createCategorizer, DEFAULT_RULES, type Categorizer } from './categories';
import { aggregate, dayInZone, type SpanFact } from './rollup';
import type { AnalyticsStore } from './store';
import type { CategoryRule } from './tables';

interface Deps {
  database: Database;
  store: AnalyticsStore;
  /** The same stores over a transaction's handle: consumer, rebuild, check and erasure each run in one. */
  storeIn: (tx: Database) => AnalyticsStore;
  eraserIn: (tx: Database) => RollupEraser;
  ingestion: IngestionService;
  directory: DirectoryService;
  audit: AuditService;
  logger: Logger;
  metrics?: Metrics;
  /** How often each worker looks for batches the rollups owe (other instances' too). */
  pollIntervalMs?: number;
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
/** Days rebuilt per transaction: bounded memory and lock time whatever the range. */
const REBUILD_CHUNK_DAYS = 7;
/** People of one day the nightly check rebuilds one by one; past this many, the whole day is rebuilt. */
const PERSON_REPAIRS_PER_DAY = 20;
/** Stored batches taken per consumer transaction (each up to 1,000 spans). */
const CLAIM_BATCHES = 50;
/** After a local insert, how long the consumer waits to gather more before it runs. */
const GATHER_MS = 100;

/** Raised inside a consumer transaction that met an org (or person) its cached directory lacks. */
class DirectoryMiss extends Error {
  constructor(readonly orgIds: string[]) {
    super('directory not loaded for the claimed batches');
  }
}

export function createAnalyticsService(deps: Deps) {
  const { database, store, ingestion, directory, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const contexts = new Map<string, Promise<OrgContext>>();
  const background = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  let soon: NodeJS.Timeout | undefined;
  /** One drain at a time in this process; other processes are kept apart by row and org locks. */
  let draining: Promise<number> | undefined;

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

  /** A context already loaded (never a query: inside a PGlite transaction the pool would wait on it). */
  async function cached(orgId: string): Promise<OrgContext | undefined> {
    const ctx = contexts.get(orgId);
    return ctx ? ctx.catch(() => undefined) : undefined;
  }

  /**
   * One consumer transaction: takes owed batches, writes their deltas under each org's rollup
   * lock, and settles the batches, all or nothing. Returns how many batches it settled.
   */
  async function consumeOnce(): Promise<number> {
    const ready = new Map<string, OrgContext>();
    for (const orgId of await ingestion.owedOrgIds(CLAIM_BATCHES)) ready.set(orgId, await context(orgId));
    for (let attempt = 0; ; attempt++) {
      try {
        return await database.transaction(async (tx) => {
          const owed = ingestion.within(tx);
          // Titles are opened only for orgs whose rules look at them (an org not seen yet: opened).
          const batches = await owed.claim(CLAIM_BATCHES, (orgId) => ready.get(orgId)?.categorizer.hasTitleRules ?? true);
          if (batches.length === 0) return 0;
          const orgIds = [...new Set(batches.map((b) => b.orgId))].sort();
          const known = new Map<string, OrgContext>();
          const missing: string[] = [];
          for (const orgId of orgIds) {
            const ctx = ready.get(orgId) ?? (await cached(orgId));
            // Someone new to the cached directory (just imported or enrolled): reload it, once.
            if (!ctx || (attempt === 0 && batches.some((b) => b.orgId === orgId && !ctx.teams.has(b.userId)))) missing.push(orgId);
            else known.set(orgId, ctx);
          }
          if (missing.length > 0) throw new DirectoryMiss(missing);
          const rollups = deps.storeIn(tx);
          await rollups.lockOrgs(orgIds);
          for (const orgId of orgIds) {
            const ctx = known.get(orgId) as OrgContext;
            const facts = function* (): Generator<SpanFact> {
              for (const b of batches) {
                if (b.orgId !== orgId) continue;
                for (const sp of b.spans) {
                  yield {
                    userId: b.userId,
                    day: ctx.dayOf(sp.start),
                    app: sp.app,
                    title: sp.title,
                    idle: sp.idle,
                    ms: sp.durationMs,
                    spans: 1,
                    startMs: sp.start.getTime(),
                  };
                }
              }
            };
            await rollups.addDeltas(aggregate(orgId, facts(), ctx.categorizer, ctx.teamOf));
          }
          await owed.settle(batches.map((b) => b.seq));
          return batches.length;
        });
      } catch (err) {
        if (!(err instanceof DirectoryMiss) || attempt >= 2) throw err;
        for (const orgId of err.orgIds) contexts.delete(orgId);
        for (const orgId of err.orgIds) ready.set(orgId, await context(orgId));
      }
    }
  }

  /** Consumes until nothing is owed that this process can take; returns how many batches it settled. */
  function drain(): Promise<number> {
    draining ??= (async () => {
      let settled = 0;
      try {
        for (let n = await consumeOnce(); n > 0; n = await consumeOnce()) settled += n;
        if (deps.metrics) deps.metrics.rollupOwed.set(await ingestion.owedCount());
      } finally {
        draining = undefined;
      }
      return settled;
    })();
    return draining;
  }

  function drainInBackground() {
    void drain().catch((err: unknown) => logger.error({ err }, 'analytics: rollup consumer failed; the batches stay owed'));
  }

  /**
   * Rebuilds [fromDay, toDay] of one org from raw spans (categories as the rules say now); of one
   * person alone when `userId` is given (their history changed, nobody else's).
   */
  async function rebuildNow(orgId: string, fromDay: string, toDay: string, userId?: string): Promise<void> {
    await rebuildWith(await freshContext(orgId), orgId, fromDay, toDay, userId);
  }

  /** The org's directory and rules read again (a rebuild writes categories as the rules say now). */
  function freshContext(orgId: string): Promise<OrgContext> {
    contexts.delete(orgId);
    return context(orgId);
  }

  /** `rebuildNow` with the org's context already read: repairs of many person-days read it once. */
  async function rebuildWith(ctx: OrgContext, orgId: string, fromDay: string, toDay: string, userId?: string): Promise<void> {
    for (let from = fromDay; from <= toDay; from = addDays(from, REBUILD_CHUNK_DAYS)) {
      const to = addDays(from, REBUILD_CHUNK_DAYS - 1) < toDay ? addDays(from, REBUILD_CHUNK_DAYS - 1) : toDay;
      // Under the org's rollup lock no consumer writes these days; spans still owed are left out
      // of the raw read (same statement) and added by the consumer afterwards: counted once.
      await database.transaction(async (tx) => {
        const rollups = deps.storeIn(tx);
        const raw = ingestion.within(tx);
        await rollups.lockOrgs([orgId]);
        let facts: SpanFact[];
        if (ctx.categorizer.hasTitleRules) {
          const spans = await raw.spansForRollup(orgId, from, to, ctx.timeZone, userId);
          facts = spans.map((sp) => ({ userId: sp.userId, day: sp.day, app: sp.app, title: sp.title, idle: sp.idle, ms: sp.durationMs, spans: 1 }));
        } else {
          const totals = await raw.spanTotals(orgId, from, to, ctx.timeZone, true, userId);
          facts = totals.map((t) => ({ userId: t.user_id, day: t.day, app: t.app, title: null, idle: t.idle, ms: t.ms, spans: t.spans }));
        }
        const changes = aggregate(orgId, facts, ctx.categorizer, ctx.teamOf);
        await (userId === undefined ? rollups.replaceDays(orgId, from, to, changes) : rollups.replacePersonDays(orgId, userId, from, to, changes));
      });
    }
  }

  return {
    /** The onInserted listener: a nudge only (the batch is already owed in the database). */
    inserted(owner: DeviceIdentity, spans: InsertedSpan[]) {
      if (owner.userId === null || spans.length === 0 || !timer || soon) return;
      soon = setTimeout(() => {
        soon = undefined;
        drainInBackground();
      }, GATHER_MS);
      soon.unref();
    },

    /** Writes every owed batch this process can take into the rollups; returns how many batches. */
    flush: drain,

    /** How many stored batches the rollups still owe (all instances). */
    owed: () => ingestion.owedCount(),

    start(intervalMs = deps.pollIntervalMs ?? 1000) {
      if (timer) return;
      timer = setInterval(drainInBackground, intervalMs);
      timer.unref();
      drainInBackground();
    },

    /** Stops the consumer; what is owed stays in the outbox for the next worker. */
    async stop() {
      if (timer) clearInterval(timer);
      if (soon) clearTimeout(soon);
      timer = undefined;
      soon = undefined;
      await Promise.allSettled([...background]);
      await draining?.catch(() => undefined);
    },

    /** Resolves when background rebuilds (after a rule change) have finished: tests and shutdown. */
    async idle() {
      while (background.size > 0) await Promise.allSettled([...background]);
      await draining?.catch(() => undefined);
    },

    /**
     * Erasure: the person leaves every rollup, old days too (see erase-store.ts). Their raw spans
     * and owed batches are already gone (ingestion deletes both in one statement), and the org's
     * rollup lock waits for any consumer that took their batches before that.
     */
    eraseUser: (orgId: string, userId: string) =>
      database.transaction(async (tx) => {
        await deps.storeIn(tx).lockOrgs([orgId]);
        return deps.eraserIn(tx).eraseUser(orgId, userId);
      }),

    /** After a bulk load (the demo seed): fresh planner statistics for the rollups. */
    analyzeRollups: () => store.analyzeRollups(),

    rebuild: (orgId: string, fromDay: string, toDay: string) => rebuildNow(orgId, fromDay, toDay),

    /** One person's days of [fromDay, toDay] rebuilt from their raw spans alone (an import of theirs withdrawn). */
    rebuildPerson: (orgId: string, userId: string, fromDay: string, toDay: string) => rebuildNow(orgId, fromDay, toDay, userId),

    /**
     * Compares each person-day of [fromDay, toDay] with the raw spans the rollups already owe
     * nothing for, and rebuilds the days that differ: the safety net (a bug, a hand edit, spans
     * inserted outside ingestion). It should find nothing; it says so either way.
     */
    async checkConsistency(orgId: string, fromDay: string, toDay: string): Promise<{ checkedDays: number; repairedDays: string[] }> {
      const ctx = await context(orgId);
      const { raw, rolled, rolledDays } = await database.transaction(async (tx) => {
        const rollups = deps.storeIn(tx);
        await rollups.lockOrgs([orgId]);
        return {
          raw: await ingestion.within(tx).spanTotals(orgId, fromDay, toDay, ctx.timeZone, false),
          rolled: await rollups.dailyTotals(orgId, fromDay, toDay),
          rolledDays: await rollups.rolledUpDays(orgId, fromDay, toDay),
        };
      });
      const expected = new Map<string, { active: number; idle: number; spans: number }>();
      for (const r of raw) {
        const key = `${r.user_id}|${r.day}`;
        const e = expected.get(key) ?? { active: 0, idle: 0, spans: 0 };
        if (r.idle) e.idle += r.ms;
        else e.active += r.ms;
        e.spans += r.spans;
        expected.set(key, e);
      }
      /** Per day, the people whose rollups differ from their raw spans. */
      const bad = new Map<string, Set<string>>();
      const differs = (userId: string, day: string) => bad.set(day, (bad.get(day) ?? new Set()).add(userId));
      const days = new Set<string>([...raw.map((r) => r.day), ...rolledDays]);
      for (const r of rolled) {
        const key = `${r.user_id}|${r.day}`;
        const e = expected.get(key);
        if (!e || e.active !== r.active_ms || e.idle !== r.idle_ms || e.spans !== r.spans) differs(r.user_id, r.day);
        expected.delete(key);
      }
      for (const key of expected.keys()) differs(key.slice(0, key.indexOf('|')), key.slice(key.indexOf('|') + 1));
      const repairedDays = [...bad.keys()].sort();
      // A few people's days are rebuilt from their spans alone; a day most of the org got wrong, whole.
      const fresh = repairedDays.length > 0 ? await freshContext(orgId) : ctx;
      for (const day of repairedDays) {
        const whose = bad.get(day) ?? new Set<string>();
        if (whose.size > PERSON_REPAIRS_PER_DAY) await rebuildWith(fresh, orgId, day, day);
        else for (const userId of whose) await rebuildWith(fresh, orgId, day, day, userId);
      }
      deps.metrics?.rollupRepairs.inc(repairedDays.length);
      if (repairedDays.length > 0) logger.warn({ orgId, repairedDays }, 'analytics: rollups differed from raw spans; rebuilt');
      else logger.info({ orgId, checkedDays: days.size }, 'analytics: rollups match the raw spans; nothing to repair');
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
