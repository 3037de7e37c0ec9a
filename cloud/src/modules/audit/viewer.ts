import { CALENDAR_PROBLEM, isInCalendar, isRealDay, safeText } from '@icarus/shared';
import { csvField } from '../../platform/http/csv';
import { z } from 'zod';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import type { AuditService } from './service';
import type { AuditFilter, StoredAuditEvent } from './store';

const Instant = z
  .string()
  .max(40)
  // A day alone must exist (Date.parse would read 2026-02-30 as 2 March); a date-time only needs to parse.
  .refine((v) => (v.length === 10 ? isRealDay(v) : /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})?$/.test(v) && !Number.isNaN(Date.parse(v))), {
    message: 'must be a date (YYYY-MM-DD) or an ISO date-time',
    abort: true,
  })
  // Year 0 is no PostgreSQL timestamp: a filter outside the calendar would fail in the query.
  .refine(isInCalendar, CALENDAR_PROBLEM);

/** The viewer's filters as query parameters; blank ones (an empty form field) are left out. */
export const AuditQuery = z.preprocess(
  (raw) => (raw && typeof raw === 'object' ? Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== '')) : raw),
  z.strictObject({
    // A NUL cannot be sent to PostgreSQL as text: refused here, named, instead of failing the query.
    actor: safeText(z.string().max(100)).optional(),
    action: z
      .string()
      .max(100)
      .regex(/^[a-z0-9_.]+\*?$/, 'letters, digits, "_" and "." only; end with "*" or "." for a prefix')
      .optional(),
    subject: z.uuid('must be a person id').optional(),
    from: Instant.optional(),
    to: Instant.optional(),
    before: z.coerce.number().int().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  }),
);
export type AuditQuery = z.infer<typeof AuditQuery>;

/** A date alone means its whole day in UTC: `to=2025-01-31` includes the 31st. */
function instant(value: string | undefined, endOfDay: boolean): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  return endOfDay && value.length === 10 ? new Date(date.getTime() + 86_400_000) : date;
}

export function filterOf(q: AuditQuery): AuditFilter {
  return { actorId: q.actor, action: q.action, subjectUserId: q.subject, from: instant(q.from, false), to: instant(q.to, true) };
}

export interface AuditEventView {
  seq: number;
  at: string;
  actorType: StoredAuditEvent['actorType'];
  actorId: string;
  action: string;
  subjectUserIds: string[];
  details: Record<string, unknown>;
  hash: string;
}

const view = (e: StoredAuditEvent): AuditEventView => ({
  seq: e.seq,
  at: e.at.toISOString(),
  actorType: e.actorType,
  actorId: e.actorId,
  action: e.action,
  subjectUserIds: e.subjectUserIds,
  details: e.details,
  hash: e.hash,
});

export const EXPORT_MAX_ROWS = 100_000;

/** The people and time zone of an org, as the viewer's pages name them (the directory, given by the composition root). */
export interface AuditPeople {
  /** People of the org by id (former members too), or whose name or email contains `text`. */
  find(orgId: string, q: { ids?: readonly string[]; text?: string; limit?: number }): Promise<{ id: string; name: string; email: string; role: string }[]>;
  timeZone(orgId: string): Promise<string>;
}

/**
 * The audit viewer for admins and auditors, scoped to their org. Looking at the log is
 * itself logged, with the person filtered on (if any) as its subject.
 */
export function createAuditViewer(audit: AuditService) {
  function assertReader(user: SignedInUser) {
    if (user.role !== 'admin' && user.role !== 'auditor') throw new AppError('forbidden', `The audit log is for admins and auditors; you are ${user.role}`);
  }
  const logged = (user: SignedInUser, action: string, q: AuditQuery, details: Record<string, unknown>) =>
    audit.record({
      orgId: user.orgId,
      actorType: 'user',
      actorId: user.userId,
      action,
      subjectUserIds: q.subject ? [q.subject] : [],
      details: { filter: { actor: q.actor ?? null, action: q.action ?? null, subject: q.subject ?? null, from: q.from ?? null, to: q.to ?? null }, ...details },
    });

  return {
    async page(user: SignedInUser, q: AuditQuery): Promise<{ events: AuditEventView[]; nextBefore: number | null }> {
      assertReader(user);
      const rows = await audit.search(user.orgId, filterOf(q), { beforeSeq: q.before, limit: q.limit + 1 });
      const events = rows.slice(0, q.limit).map(view);
      await logged(user, 'audit.viewed', q, { shown: events.length });
      return { events, nextBefore: rows.length > q.limit ? (events[events.length - 1]?.seq ?? null) : null };
    },

    /** One event of the org by its sequence number, for its own page; undefined when there is none. Logged as a read of the log. */
    async event(user: SignedInUser, seq: number): Promise<AuditEventView | undefined> {
      assertReader(user);
      const [row] = await audit.search(user.orgId, {}, { beforeSeq: seq + 1, limit: 1 });
      if (!row || row.seq !== seq) return undefined;
      await audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'audit.event_viewed', details: { seq } });
      return view(row);
    },

    /**
     * CSV, newest first, built page by page. The first row is a signed checkpoint of the whole
     * chain as it is now (action `audit.checkpoint`, the JWS in details): a copy kept outside
     * that later verification can be held against.
     */
    async exportCsv(user: SignedInUser, q: AuditQuery): Promise<string> {
      assertReader(user);
      let text = 'seq,at,actor_type,actor_id,action,subject_user_ids,details,hash\r\n';
      const { checkpoint } = await audit.checkpoint(user.orgId);
      if (checkpoint) {
        const details = JSON.stringify({ size: checkpoint.size, jws: checkpoint.jws });
        text +=
          [String(checkpoint.seq), checkpoint.at, 'system', csvField(checkpoint.kid), 'audit.checkpoint', '', csvField(details), checkpoint.hash].join(',') +
          '\r\n';
      }
      let rows = 0;
      for await (const page of audit.matching(user.orgId, filterOf(q), EXPORT_MAX_ROWS)) {
        for (const e of page) {
          text +=
            [
              String(e.seq),
              e.at.toISOString(),
              e.actorType,
              csvField(e.actorId),
              csvField(e.action),
              csvField(e.subjectUserIds.join(' ')),
              csvField(JSON.stringify(e.details)),
              e.hash,
            ].join(',') + '\r\n';
          rows++;
        }
      }
      await logged(user, 'audit.exported', q, { rows, checkpointSeq: checkpoint?.seq ?? null });
      return text;
    },

    /** Verification for the viewer page, against a checkpoint the reader pasted when there is one. */
    verify: async (user: SignedInUser, supplied?: string) => {
      assertReader(user);
      return audit.verify(user.orgId, { supplied });
    },

    /** The newest stored checkpoint, for the reader to keep (the page signs none: every view is itself an entry). */
    checkpoint: async (user: SignedInUser) => {
      assertReader(user);
      return audit.latestCheckpoint(user.orgId);
    },
  };
}
export type AuditViewer = ReturnType<typeof createAuditViewer>;
