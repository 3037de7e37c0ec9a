import { createHash } from 'node:crypto';
import { canonicalJson } from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import { GENESIS_HASH, type AuditFilter, type AuditStore, type StoredAuditEvent } from './store';

export interface AuditEvent {
  orgId: string;
  actorType: 'user' | 'device' | 'system';
  actorId: string;
  action: string;
  /** People whose personal data the action read or changed. */
  subjectUserIds?: string[];
  details?: Record<string, unknown>;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  /** The first row whose hash or link does not match, when `ok` is false. */
  brokenAt?: { seq: number; reason: 'hash_mismatch' | 'link_mismatch' };
  lastHash: string;
}

/** The exact bytes each row's hash covers; the verifier recomputes the same. */
export function hashAuditRow(prevHash: string, row: Omit<StoredAuditEvent, 'seq' | 'prevHash' | 'hash'>): string {
  const content = canonicalJson({
    id: row.id,
    orgId: row.orgId,
    at: row.at.toISOString(),
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    subjectUserIds: row.subjectUserIds,
    details: row.details,
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

export function createAuditService(store: AuditStore) {
  return {
    async record(event: AuditEvent): Promise<void> {
      await store.append(event.orgId, (prevHash) => {
        const row = {
          id: uuidv7(),
          orgId: event.orgId,
          at: new Date(),
          actorType: event.actorType,
          actorId: event.actorId,
          action: event.action,
          subjectUserIds: event.subjectUserIds ?? [],
          details: event.details ?? {},
        };
        return { ...row, prevHash, hash: hashAuditRow(prevHash, row) };
      });
    },

    /** Newest first; the viewer pages with `beforeSeq`. Callers check roles and org. */
    search: (orgId: string, filter: AuditFilter, page: { beforeSeq?: number | undefined; limit: number }) => store.search(orgId, filter, page),

    /** Every matching event, newest first, read a page at a time (CSV export). */
    async *matching(orgId: string, filter: AuditFilter, max: number): AsyncGenerator<StoredAuditEvent[]> {
      let beforeSeq: number | undefined;
      let left = max;
      while (left > 0) {
        const page = await store.search(orgId, filter, { beforeSeq, limit: Math.min(1000, left) });
        if (page.length === 0) return;
        yield page;
        left -= page.length;
        beforeSeq = page[page.length - 1]?.seq;
      }
    },

    /** Reads and changes of the person's data by other users, newest first (who viewed my data). */
    eventsAboutSubject: (orgId: string, subjectUserId: string, limit: number) => store.eventsAboutSubject(orgId, subjectUserId, limit),

    personalDataAccess: (orgId: string, from: Date, to: Date) => store.personalDataAccess(orgId, from, to),

    /** Recomputes every hash of the org's chain in order, reading in pages. */
    async verify(orgId: string): Promise<ChainVerification> {
      let prevHash = GENESIS_HASH;
      let checked = 0;
      for await (const page of store.pages(orgId, 2000)) {
        for (const row of page) {
          if (row.prevHash !== prevHash) {
            return { ok: false, checked, brokenAt: { seq: row.seq, reason: 'link_mismatch' }, lastHash: prevHash };
          }
          if (hashAuditRow(prevHash, row) !== row.hash) {
            return { ok: false, checked, brokenAt: { seq: row.seq, reason: 'hash_mismatch' }, lastHash: prevHash };
          }
          prevHash = row.hash;
          checked++;
        }
      }
      return { ok: true, checked, lastHash: prevHash };
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
