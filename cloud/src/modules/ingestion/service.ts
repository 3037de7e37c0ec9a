import { uuidv7 } from 'uuidv7';
import { retentionStartMs, scopesOfSpan, CLOCK_SKEW_MS, type IngestBatch, type IngestResult, type RejectReason } from '@icarus/shared';
import type { AuditService } from '../audit';
import { grantedAt, inForce, type ConsentHistory, type ConsentService, type ImportCover } from '../consent';
import type { DeviceIdentity, DeviceService, EnrolledDevice } from '../devices';
import type { DirectoryService } from '../directory';
import { AppError } from '../../platform/errors';
import type { Metrics } from '../../platform/metrics';
import type { Database } from '../../platform/db/client';
import { NO_EVENTS, type EventOutbox, type NewEvent } from '../../platform/events';
import type { IngestionStore, InsertedSpan, OwedSpanRow, SpanRow } from './store';
import type { TitleCipher } from './title-cipher';
import type { TruthStore } from './truth-store';
import { dayIn, factsQuery, judge, quickCheck, type Candidate } from './truth';

/** A person's own span with the title opened for them (full, redacted or hashed, as the device sent it). */
export interface UserSpan {
  id: string;
  start: string;
  durationMs: number;
  app: string | null;
  title: string | null;
  idle: boolean;
  deviceId: string;
}

/** A stored batch the rollups still owe, with its spans as stored now (erased or expired ones are gone). */
export interface OwedBatch {
  seq: number;
  orgId: string;
  userId: string;
  spans: { start: Date; durationMs: number; app: string | null; idle: boolean; title: string | null }[];
}

/** Called with the spans a batch newly stored (never duplicates), e.g. by the rollup stage. */
export type InsertedListener = (owner: DeviceIdentity, spans: InsertedSpan[]) => void;

interface Deps {
  store: IngestionStore;
  /** The same store over a transaction's handle (the rollup consumer's). */
  storeIn: (tx: Database) => IngestionStore;
  truth: TruthStore;
  consent: ConsentService;
  /** The org's time zone: a person-day is a day there. */
  directory: Pick<DirectoryService, 'findOrg'>;
  devices: DeviceService;
  audit: AuditService;
  titles: TitleCipher;
  metrics: Metrics;
  /** `batch.ingested` is recorded in the transaction that stores the spans. */
  events?: EventOutbox;
  now?: () => Date;
}

/** An org's time zone is read at most this often (it decides which day a span counts for). */
const TIME_ZONE_CACHE_MS = 60_000;

export function createIngestionService(deps: Deps) {
  const { store, truth, consent, devices, directory, audit, titles, metrics } = deps;
  const events = deps.events ?? NO_EVENTS;
  const now = deps.now ?? (() => new Date());
  const listeners: InsertedListener[] = [];
  const timeZones = new Map<string, { timeZone: Promise<string>; at: number }>();

  function timeZoneOf(orgId: string): Promise<string> {
    const cached = timeZones.get(orgId);
    if (cached && Date.now() - cached.at < TIME_ZONE_CACHE_MS) return cached.timeZone;
    const timeZone = directory.findOrg(orgId).then((org) => {
      if (!org) throw new AppError('not_found', 'No such organisation');
      return org.timeZone;
    });
    timeZones.set(orgId, { timeZone, at: Date.now() });
    timeZone.catch(() => timeZones.delete(orgId));
    return timeZone;
  }

  function opened(titleEnc: Uint8Array | null): string | null {
    if (!titleEnc) return null;
    try {
      return titles.decrypt(titleEnc);
    } catch {
      // Sealed under a key since rotated away: categorised as if untitled.
      return null;
    }
  }

  function owedBatches(rows: OwedSpanRow[], wantsTitles: (orgId: string) => boolean): OwedBatch[] {
    const batches = new Map<number, OwedBatch>();
    for (const r of rows) {
      const seq = Number(r.seq);
      let batch = batches.get(seq);
      if (!batch) {
        batch = { seq, orgId: r.org_id, userId: r.user_id, spans: [] };
        batches.set(seq, batch);
      }
      if (r.start === null || r.duration_ms === null) continue;
      batch.spans.push({
        start: new Date(r.start),
        durationMs: r.duration_ms,
        app: r.app,
        idle: r.idle === true,
        title: wantsTitles(r.org_id) ? opened(r.title_enc) : null,
      });
    }
    return [...batches.values()];
  }

  /** Reads for rollups, through one handle (the pool, or a transaction's). */
  function rollupReads(s: IngestionStore) {
    return {
      /** Raw totals per person and day (and app) without spans the outbox still owes: what rollups must equal. */
      spanTotals: s.spanTotals,
      /** Spans of a range with titles opened, for categories that depend on titles (outbox-owed ones left out). */
      async spansForRollup(orgId: string, fromDay: string, toDay: string, timeZone: string, userId?: string) {
        const rows = await s.spansForRollup(orgId, fromDay, toDay, timeZone, userId);
        return rows.map((r) => ({ userId: r.user_id, day: r.day, app: r.app, idle: r.idle, durationMs: r.duration_ms, title: opened(r.title_enc) }));
      },
    };
  }

  /** The grant an import batch names, with the org's retention start; a grant of no such device refuses the batch. */
  async function importCover(device: EnrolledDevice, grantId: string): Promise<ImportCover & { keptFromMs: number }> {
    const [cover, policy] = await Promise.all([consent.imports.cover(device, grantId), consent.currentPolicy(device.orgId)]);
    if (!cover) {
      throw new AppError('forbidden', 'The batch names an import grant this device did not make', [
        { path: 'importGrantId', problem: 'not an import grant of this device' },
      ]);
    }
    return { ...cover, keptFromMs: retentionStartMs(now().getTime(), policy.content.retentionDays) };
  }

  /** Why an imported span may not be stored: outside the retention window, or not covered by the grant's period and scopes. */
  function importReason(cover: ImportCover & { keptFromMs: number }, span: IngestBatch['spans'][number], startMs: number): RejectReason | undefined {
    if (startMs < cover.keptFromMs) return 'beyond_retention';
    if (!cover.inForce || startMs < cover.fromMs || startMs + span.durationMs > cover.toMs) return 'no_consent';
    return scopesOfSpan(span).every((s) => cover.scopes.has(s)) ? undefined : 'no_consent';
  }

  return {
    /** Daily partitions a week back and a week ahead, so inserts rarely fall to the default. */
    async preparePartitions(now: Date): Promise<string[]> {
      return store.ensureDailyPartitions(new Date(now.getTime() - 7 * 86_400_000), new Date(now.getTime() + 8 * 86_400_000));
    },

    ...rollupReads(store),
    orgIdsWithSpans: store.orgIdsWithSpans,
    ensureDailyPartitions: store.ensureDailyPartitions,
    /** Demo and benchmark data straight into the spans table (the seed); rollups are rebuilt after. */
    insertGeneratedSpans: store.insertGeneratedSpans,
    dropPartitionsBefore: store.dropPartitionsBefore,
    deleteOrgSpansBefore: store.deleteOrgSpansBefore,
    /** Orgs of the oldest owed batches, and how many batches are owed (a gauge). */
    owedOrgIds: store.owedOrgIds,
    owedCount: store.owedCount,

    /**
     * The rollups' outbox inside the caller's transaction: `claim` takes batches no other worker
     * holds (locked until the transaction ends), `settle` removes those whose deltas were written.
     */
    within(tx: Database) {
      const s = deps.storeIn(tx);
      return {
        ...rollupReads(s),
        claim: async (limit: number, wantsTitles: (orgId: string) => boolean) => owedBatches(await s.claimOwed(limit), wantsTitles),
        settle: s.settleOwed,
      };
    },

    /** One page of a person's spans, oldest first, after the (start, id) cursor; titles decrypted for their owner. */
    async spansOfUser(
      orgId: string,
      userId: string,
      after: { start: string; id: string } | undefined,
      limit: number,
      range?: { from: Date; to: Date },
    ): Promise<UserSpan[]> {
      const rows = await store.spansOfUser(orgId, userId, after, limit, range);
      return rows.map((r) => {
        let title: string | null = null;
        if (r.title_enc) {
          try {
            title = titles.decrypt(r.title_enc);
          } catch {
            // A title sealed under a key since rotated away: say so rather than fail the whole page.
            title = '(unreadable: sealed with another key)';
          }
        }
        return { id: r.id, start: new Date(r.start).toISOString(), durationMs: r.duration_ms, app: r.app, title, idle: r.idle, deviceId: r.device_id };
      });
    },

    /** Erasure: deletes every raw span of the person; how many, and the time they covered. */
    deleteSpansOfUser: store.deleteSpansOfUser,
    /** A withdrawn import's erasure: deletes the spans stored under the grant; how many, and the time they covered. */
    deleteImportedSpans: store.deleteImportedSpans,

    onInserted(listener: InsertedListener) {
      listeners.push(listener);
    },

    /**
     * The HTTP path: the device check, its consent timeline and the body (still being read and
     * parsed) are independent, so they overlap instead of costing three waits in a row.
     */
    async ingestFor(deviceId: string, body: Promise<IngestBatch>): Promise<IngestResult> {
      const [device, history, batch] = await Promise.all([devices.requireActive(deviceId), consent.timeline(deviceId), body]);
      return this.ingest(device, batch, history);
    },

    async ingest(device: EnrolledDevice, batch: IngestBatch, knownHistory?: ConsentHistory): Promise<IngestResult> {
      if (batch.deviceId !== undefined && batch.deviceId !== device.deviceId) {
        throw new AppError('forbidden', 'The batch names another device than the one signed in', [
          { path: 'deviceId', problem: 'does not match the access token' },
        ]);
      }
      // Only decisions of the person the device is bound to now count; unbound, it speaks for no one.
      const unbound = device.userId === null || device.bindingId === null;
      const timeline = inForce(knownHistory ?? (await consent.timeline(device.deviceId)), device.bindingId);
      // Imported history is judged by the grant the batch names, never by the live consent.
      const cover = batch.importGrantId === undefined ? undefined : await importCover(device, batch.importGrantId);
      const rejected: { id: string; reason: RejectReason; at: number }[] = [];
      const candidates: Candidate[] = [];
      const seen = new Map<string, number>();
      let duplicatesInBatch = 0;
      // What no agent sends: a span not yet ended, or begun before the device existed.
      const latestEnd = now().getTime() + CLOCK_SKEW_MS;
      const earliestStart = device.enrolledAt.getTime() - CLOCK_SKEW_MS;
      for (const [at, span] of batch.spans.entries()) {
        // PostgreSQL answers uuids in lower case; compare in the same form.
        const id = span.id.toLowerCase();
        const startMs = Date.parse(span.start);
        const again = seen.get(id);
        if (again !== undefined) {
          if (again === startMs) duplicatesInBatch++;
          else rejected.push({ id, reason: 'start_changed', at });
          continue;
        }
        seen.set(id, startMs);
        let reason: RejectReason | undefined;
        if (unbound) reason = 'device_unbound';
        else if (startMs + span.durationMs > latestEnd) reason = 'in_future';
        else if (cover) reason = importReason(cover, span, startMs);
        else if (startMs < earliestStart) reason = 'before_enrollment';
        else {
          const granted = grantedAt(timeline, startMs);
          if (!granted || !scopesOfSpan(span).every((s) => granted.has(s))) reason = 'no_consent';
        }
        if (reason) {
          rejected.push({ id, reason, at });
          continue;
        }
        candidates.push({
          at,
          startMs,
          row: {
            id,
            start: span.start,
            durationMs: span.durationMs,
            app: span.app ?? null,
            titleEnc: span.title === undefined ? null : titles.encrypt(span.title).toString('base64'),
            idle: span.idle === true,
          },
        });
      }

      // Read-only and usually empty: checked alongside the insert, taken only once it succeeded.
      const directivesWaiting = devices.hasPendingDirectives(device.deviceId);
      // Awaited below; a failure meanwhile is not unhandled.
      directivesWaiting.catch(() => undefined);
      let inserted: InsertedSpan[] = [];
      let rows: SpanRow[] = [];
      let duplicates = duplicatesInBatch;
      if (candidates.length > 0 && device.userId !== null) {
        const owner = { orgId: device.orgId, userId: device.userId, deviceId: device.deviceId };
        const timeZone = await timeZoneOf(device.orgId);
        const dayOf = dayIn(timeZone);
        // Checked against what is stored and stored in one transaction per person: a second batch
        // of the same person waits, then sees this one's spans. A batch true on its own is checked
        // inside its insert (one round trip, the batch.ingested event written by the same statement
        // when a broker is configured); one that something stored contradicts, the full way. An
        // import batch the full way too: its spans are stored under the grant that covers them.
        const quick = cover ? undefined : quickCheck(owner.deviceId, timeZone, candidates, dayOf);
        const all = candidates.map((c) => c.row);
        const event = events.enabled ? { id: uuidv7(), batchId: batch.batchId, time: now() } : undefined;
        const stored = quick ? await truth.storeIfTrue(owner, quick, all, event) : undefined;
        if (stored) {
          rows = all;
          const fresh = new Set(stored);
          inserted = all
            .filter((r) => fresh.has(r.id))
            .map((r) => ({ id: r.id, start: new Date(r.start), durationMs: r.durationMs, app: r.app, idle: r.idle }));
        } else {
          // What is stored that the batch could contradict is read only on this path.
          const q = factsQuery(owner, timeZone, candidates);
          inserted = await truth.serialized(q, async (facts, spans, tx) => {
            // An import withdrawn since its cover was read stores nothing; one in force stays so
            // until this commits, so the withdrawal's erasure finds what this batch stores.
            if (cover && batch.importGrantId !== undefined && !(await consent.imports.holdInForce(tx, batch.importGrantId))) {
              for (const c of candidates) rejected.push({ id: c.row.id, reason: 'no_consent', at: c.at });
              rows = [];
              return [];
            }
            const verdict = judge(owner.deviceId, candidates, facts, q.dayOf);
            duplicates += verdict.duplicates;
            for (const r of verdict.rejected) rejected.push(r);
            rows = verdict.accepted;
            const stored = await spans.insertSpans(device, rows, batch.importGrantId?.toLowerCase() ?? null);
            if (events.enabled && stored.length > 0) await events.add(tx, batchIngested(owner, batch.batchId, stored));
            return stored;
          });
        }
      }
      if (inserted.length < rows.length) {
        // Another device stored the same (id, start) between the check and the insert.
        const fresh = new Set(inserted.map((s) => s.id));
        const others = rows.filter((r) => !fresh.has(r.id)).map((r) => r.id);
        const owners = await store.ownersOf(others);
        for (const id of others) {
          if (owners.get(id) === device.deviceId) duplicates++;
          else rejected.push({ id, reason: 'id_conflict', at: batch.spans.length });
        }
      }
      rejected.sort((a, b) => a.at - b.at);
      const answer = rejected.map(({ id, reason }) => ({ id, reason }));

      metrics.spans.inc({ outcome: 'accepted', reason: 'none' }, inserted.length);
      if (duplicates > 0) metrics.spans.inc({ outcome: 'duplicate', reason: 'none' }, duplicates);
      if (rejected.length > 0) {
        const byReason: Record<string, number> = {};
        for (const r of rejected) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
        for (const [reason, n] of Object.entries(byReason)) metrics.spans.inc({ outcome: 'rejected', reason }, n);
        await audit.record({
          orgId: device.orgId,
          actorType: 'device',
          actorId: device.deviceId,
          action: 'ingest.rejected',
          subjectUserIds: device.userId ? [device.userId] : [],
          details: { batchId: batch.batchId, byReason, spanIds: answer.slice(0, 100).map((r) => r.id) },
        });
      }
      if (inserted.length > 0) {
        // Listeners get the plain title (never stored in clear) so title rules can categorize.
        const titled = batch.spans.some((s) => s.title !== undefined) ? new Map(batch.spans.map((s) => [s.id.toLowerCase(), s.title])) : undefined;
        const spans = titled ? inserted.map((s) => ({ ...s, ...(titled.get(s.id) !== undefined ? { title: titled.get(s.id) } : {}) })) : inserted;
        for (const listener of listeners) listener(device, spans);
      }

      const [policyDirective, queued] = await Promise.all([
        // An unbound device is not asked for consent: nobody could give it yet.
        unbound ? undefined : consent.policyDirective(device.orgId, timeline),
        (await directivesWaiting) ? devices.takeDirectives(device.deviceId) : [],
        devices.recordSync(device, batch.status),
      ]);
      return {
        accepted: inserted.length,
        duplicates,
        rejected: answer,
        directives: policyDirective ? [policyDirective, ...queued] : queued,
      };
    },
  };
}
export type IngestionService = ReturnType<typeof createIngestionService>;

/** Counts and the time covered, never what was captured: what other systems may know of a batch. */
function batchIngested(owner: { orgId: string; userId: string; deviceId: string }, batchId: string, stored: InsertedSpan[]): NewEvent {
  let from = Infinity;
  let to = -Infinity;
  let durationMs = 0;
  for (const span of stored) {
    from = Math.min(from, span.start.getTime());
    to = Math.max(to, span.start.getTime() + span.durationMs);
    durationMs += span.durationMs;
  }
  return {
    name: 'batch.ingested',
    subject: batchId,
    data: { ...owner, batchId, spans: stored.length, durationMs, from: new Date(from).toISOString(), to: new Date(to).toISOString() },
  };
}
