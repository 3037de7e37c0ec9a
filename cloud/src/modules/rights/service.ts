import type { Logger } from 'pino';
import { addDays, type Scope } from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import { dayInZone, type AnalyticsService } from '../analytics';
import { actionWords, type AuditEvent, type AuditService } from '../audit';
import type { ConsentService } from '../consent';
import type { DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import { AppError } from '../../platform/errors';
import type { IngestionService, UserSpan } from '../ingestion';
import type { NotificationService } from '../notification';
import type { ErasureRow, RightsStore } from './store';

/** The person exercising their rights, and from where: their web session or their device. */
export interface Principal {
  orgId: string;
  userId: string;
  via: 'web' | 'device';
  /** The user (web) or device (agent) that acts, as the audit log names it. */
  actorType: 'user' | 'device';
  actorId: string;
}

/** A person's own span as they see and export it: ingestion's span with the title opened. */
export type OwnSpan = UserSpan;

export interface Viewer {
  at: string;
  action: string;
  actor: { id: string; name: string; role: string };
  details: Record<string, unknown>;
  /** What was done, in plain words after the actor's name ("saw your time per category, in a team summary"). */
  what: string;
  /** A read of the person's data (a report, a list), as opposed to a change that concerned them. */
  view: boolean;
  /** How many people the view included: 1 is the person alone, more a total they were one of. */
  people: number;
}

const VIEWER_ROLES = new Set(['manager', 'admin', 'auditor']);
const PAGE = 5000;

export interface RightsDeps {
  store: RightsStore;
  audit: AuditService;
  analytics: AnalyticsService;
  ingestion: IngestionService;
  devices: DeviceService;
  directory: DirectoryService;
  notifications: NotificationService;
  consent: Pick<ConsentService, 'consentOf' | 'withdrawOnWeb' | 'currentPolicy' | 'imports'>;
  logger: Logger;
  now?: () => Date;
}

export function createRightsService(deps: RightsDeps) {
  const { store, audit, analytics, ingestion, devices, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const running = new Set<Promise<void>>();

  /** Removes spans, then the person's share of every rollup day (old days too), then tells the person. */
  async function erase(request: ErasureRow): Promise<void> {
    const { id, orgId, userId } = request;
    try {
      const removed = await ingestion.deleteSpansOfUser(orgId, userId);
      // Not a rebuild from raw spans: days past raw retention have none, and would lose everyone's figures.
      const rollups = await analytics.eraseUser(orgId, userId);
      if (request.eraseLocal) {
        for (const d of await devices.devicesOfUser(orgId, userId))
          await devices.queueDirective(d.id, { type: 'erase_local', reason: `erasure request ${id}` });
      }
      const at = now();
      await store.finishErasure(id, { state: 'completed', spansRemoved: removed.count, at });
      await audit.record({
        orgId,
        actorType: 'system',
        actorId: 'rights',
        action: 'rights.erasure.completed',
        subjectUserIds: [userId],
        details: { requestId: id, spansRemoved: removed.count, rollupDaysErased: rollups.days, eraseLocal: request.eraseLocal },
      });
      await deps.notifications.publish(
        { type: 'erasure.completed', orgId, userId, requestId: id, spansRemoved: removed.count, eraseLocal: request.eraseLocal },
        `erasure:${id}`,
      );
    } catch (err) {
      logger.error({ err, requestId: id }, 'rights: erasure failed');
      await store.finishErasure(id, { state: 'failed', error: err instanceof Error ? err.message.slice(0, 500) : 'unknown error' }).catch(() => undefined);
    }
  }

  /** An erasure request stored and audited at once, as the person's or the directory's; erasing it is `inBackground`. */
  async function recordErasureRequest(request: Pick<ErasureRow, 'orgId' | 'userId' | 'via' | 'eraseLocal'> & Pick<AuditEvent, 'actorType' | 'actorId'>) {
    const { orgId, userId, via, eraseLocal } = request;
    const row: ErasureRow = {
      id: uuidv7(),
      orgId,
      userId,
      via,
      eraseLocal,
      state: 'requested',
      requestedAt: now(),
      completedAt: null,
      spansRemoved: null,
      lastError: null,
    };
    await store.insertErasure(row);
    await audit.record({
      orgId,
      actorType: request.actorType,
      actorId: request.actorId,
      action: 'rights.erasure.requested',
      subjectUserIds: [userId],
      details: { requestId: row.id, via, eraseLocal },
    });
    return row;
  }

  function inBackground(request: ErasureRow) {
    const p = erase(request);
    running.add(p);
    void p.finally(() => running.delete(p));
  }

  return {
    /**
     * A withdrawn import grant's erasure: the spans it brought in, then the person's rollups of
     * the days they fell on rebuilt from what is left of their spans (those days are inside raw
     * retention, as imports are); nobody else's spans are read.
     */
    async eraseImport(grant: { id: string; orgId: string; userId: string; deviceId: string; from: Date; to: Date }): Promise<number> {
      const removed = await ingestion.deleteImportedSpans(grant);
      let days: string[] = [];
      if (removed.first && removed.last) {
        const org = await deps.directory.findOrg(grant.orgId);
        const dayOf = dayInZone(org?.timeZone ?? 'UTC');
        // The last span may run past midnight: its next day is rebuilt too.
        days = [dayOf(removed.first), addDays(dayOf(removed.last), 1)];
        await analytics.rebuildPerson(grant.orgId, grant.userId, days[0]!, days[1]!);
      }
      await audit.record({
        orgId: grant.orgId,
        actorType: 'system',
        actorId: 'rights',
        action: 'import.erased',
        subjectUserIds: [grant.userId],
        details: { grantId: grant.id, deviceId: grant.deviceId, spansRemoved: removed.count, rebuiltDays: days },
      });
      return removed.count;
    },

    /** The person's spans of [from, to), oldest first, at most `limit`, titles readable. */
    async spans(who: Principal, range: { from: Date; to: Date }, limit: number): Promise<OwnSpan[]> {
      return ingestion.spansOfUser(who.orgId, who.userId, undefined, limit, range);
    },

    /** Every read or change of the person's data by a manager, admin or auditor, newest first. */
    async viewers(who: Principal, limit = 500): Promise<Viewer[]> {
      const rows = await audit.eventsAboutSubject(who.orgId, who.userId, limit);
      const actors = new Map<string, { name: string; role: string } | null>();
      for (const id of new Set(rows.map((r) => r.actorId))) {
        const user = await deps.directory.findUser(id).catch(() => undefined);
        actors.set(id, user && user.orgId === who.orgId && VIEWER_ROLES.has(user.role) ? { name: user.name, role: user.role } : null);
      }
      return rows.flatMap((r) => {
        const actor = actors.get(r.actorId);
        if (!actor) return [];
        const words = actionWords(r.action);
        return [
          {
            at: r.at.toISOString(),
            action: r.action,
            actor: { id: r.actorId, ...actor },
            details: r.details,
            what: words.saw ? `saw ${words.saw}` : `${words.did} (it concerned you)`,
            view: words.saw !== undefined,
            people: r.subjectUserIds.length,
          },
        ];
      });
    },

    /** All the person's spans, page by page (exports stream these). The export itself is audited. */
    async *allSpans(who: Principal, format: 'json' | 'csv'): AsyncGenerator<OwnSpan[]> {
      await audit.record({
        orgId: who.orgId,
        actorType: who.actorType,
        actorId: who.actorId,
        action: 'rights.exported',
        subjectUserIds: [who.userId],
        details: { format, via: who.via },
      });
      let after: { start: string; id: string } | undefined;
      for (;;) {
        const page = await ingestion.spansOfUser(who.orgId, who.userId, after, PAGE);
        if (page.length > 0) yield page;
        const last = page[page.length - 1];
        if (!last || page.length < PAGE) return;
        after = { start: last.start, id: last.id };
      }
    },

    /** Records the request (audited at once) and erases in the background. */
    async requestErasure(who: Principal, eraseLocal: boolean): Promise<{ id: string; state: 'requested'; requestedAt: string }> {
      const user = await deps.directory.findUser(who.userId);
      if (!user || user.orgId !== who.orgId) throw new AppError('not_found', 'No such person in this org');
      const row = await recordErasureRequest({
        orgId: who.orgId,
        userId: who.userId,
        via: who.via,
        eraseLocal,
        actorType: who.actorType,
        actorId: who.actorId,
      });
      inBackground(row);
      return { id: row.id, state: 'requested', requestedAt: row.requestedAt.toISOString() };
    },

    /**
     * The org erases a deprovisioned person's data (its setting for leavers): the same erasure as
     * the person's own request, recorded as the directory's. Their devices were told to wipe their
     * local copies as their binding ended (they are bound to no one by the time this runs).
     */
    async eraseDeprovisioned(orgId: string, userId: string, actorId: string): Promise<{ id: string }> {
      const row = await recordErasureRequest({ orgId, userId, via: 'directory', eraseLocal: false, actorType: 'system', actorId });
      inBackground(row);
      return { id: row.id };
    },

    /**
     * The person's consent per scope of the current policy, across the computers bound to them:
     * each computer's standing decision, and the policy's words for each scope.
     */
    async consent(who: Principal) {
      const [devicesOf, policy] = await Promise.all([deps.consent.consentOf(who), deps.consent.currentPolicy(who.orgId).catch(() => undefined)]);
      const imports = await deps.consent.imports.grantsOfUser(who.orgId, who.userId);
      return {
        devices: devicesOf,
        scopes: policy?.content.scopes.map((s) => ({ scope: s.scope, purpose: s.purpose, legalBasis: s.legalBasis })) ?? [],
        /** History brought in from another tool, each under its own consent for a past period. */
        imports,
      };
    },

    /** Withdraws scopes on every computer bound to the person; only the person's own session may (the web principal). */
    withdrawConsent: (who: Principal, scopes: Scope[]) => deps.consent.withdrawOnWeb(who, scopes),

    /** Withdraws one of the person's imports of past history from the web: its history is erased. */
    withdrawImport: (who: Principal, id: string) => deps.consent.imports.withdrawOnWeb(who, id),

    async erasures(who: Principal) {
      return (await store.erasures(who.orgId, who.userId)).map((r) => ({
        id: r.id,
        via: r.via,
        eraseLocal: r.eraseLocal,
        state: r.state,
        requestedAt: r.requestedAt.toISOString(),
        completedAt: r.completedAt?.toISOString() ?? null,
        spansRemoved: r.spansRemoved,
      }));
    },

    /** Runs requests a previous process accepted but did not finish. */
    async resumeUnfinished(): Promise<number> {
      const rows = await store.unfinishedErasures();
      for (const row of rows) inBackground(row);
      return rows.length;
    },

    /** Resolves when background erasures are done: tests and shutdown. */
    async idle(): Promise<void> {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
export type RightsService = ReturnType<typeof createRightsService>;
