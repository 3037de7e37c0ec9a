// The audit page's filters as people type them: a person and an actor by name or email, an
// action from a list, and days in the org's time zone. Resolved here into the viewer's query
// (ids and instants), so the JSON API keeps its exact, id-based filters.
import { isRealDay } from '@icarus/shared';
import { z } from 'zod';
import type { AuditPeople, AuditQuery } from './viewer';

const Day = z
  .string()
  .max(10)
  .refine((v) => isRealDay(v), 'enter a day as YYYY-MM-DD, such as 2026-03-31');

export const AUDIT_PAGE_SIZE = 50;

/** The page's query string; blank fields (an empty form input) are left out. */
export const AuditPageQuery = z.preprocess(
  (raw) => (raw && typeof raw === 'object' ? Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== '')) : raw),
  z.strictObject({
    person: z.string().trim().max(200, 'keep it under 200 characters').optional(),
    subject: z.uuid('the person link is broken: choose the person again').optional(),
    actor: z.string().trim().max(200, 'keep it under 200 characters').optional(),
    action: z
      .string()
      .max(100)
      .regex(/^[a-z0-9_.]+\*?$/, 'choose an action from the list')
      .optional(),
    from: Day.optional(),
    to: Day.optional(),
    before: z.coerce.number({ error: 'the page link is broken: start from the newest entries' }).int().min(1).optional(),
  }),
);
export type AuditPageQuery = z.infer<typeof AuditPageQuery>;

type Member = Awaited<ReturnType<AuditPeople['find']>>[number];

/** A name or email as typed: an exact email wins, else everyone whose name or email contains it. */
export function matchPeople(members: Member[], text: string): Member[] {
  const wanted = text.toLowerCase();
  const exact = members.filter((m) => m.email.toLowerCase() === wanted || m.id === wanted);
  if (exact.length > 0) return exact;
  return members.filter((m) => m.name.toLowerCase().includes(wanted) || m.email.toLowerCase().includes(wanted));
}

/** Offset of a time zone from UTC at an instant, in milliseconds (positive east of Greenwich). */
function zoneOffsetMs(timeZone: string, at: number): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
      .formatToParts(new Date(at))
      .map((p) => [p.type, Number(p.value)]),
  );
  const asUtc = Date.UTC(parts['year'] ?? 0, (parts['month'] ?? 1) - 1, parts['day'] ?? 1, parts['hour'] ?? 0, parts['minute'] ?? 0, parts['second'] ?? 0);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The instant a day starts in a time zone (`2026-03-29` in Europe/Berlin is 2026-03-28T23:00:00Z). */
export function dayStartIn(day: string, timeZone: string, addDays = 0): Date {
  const [y, m, d] = day.split('-').map(Number);
  const midnightUtc = Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + addDays);
  // Twice: the offset at the first guess may differ from the offset at the answer around a clock change.
  let at = midnightUtc - zoneOffsetMs(timeZone, midnightUtc);
  at = midnightUtc - zoneOffsetMs(timeZone, at);
  return new Date(at);
}

export type Resolved =
  | { ok: true; query: AuditQuery; person: Member | undefined; actor: Member | undefined }
  | { ok: false; field: 'person' | 'actor'; problem: string; choices: Member[] };

/**
 * The viewer's query from the page's: the person and actor as ids, the days as instants in the
 * org's zone (`to` includes its whole day). Several matching people are offered as choices.
 */
export function resolvePageQuery(q: AuditPageQuery, candidates: { person: Member[]; actor: Member[] }, timeZone: string): Resolved {
  let person: Member | undefined;
  let subject = q.subject;
  if (subject) person = candidates.person.find((m) => m.id === subject);
  else if (q.person) {
    const found = matchPeople(candidates.person, q.person);
    if (found.length !== 1) {
      return {
        ok: false,
        field: 'person',
        problem: found.length === 0 ? 'no person of this organisation has that name or email' : `${found.length} people match: choose one below`,
        choices: found.slice(0, 20),
      };
    }
    person = found[0];
    subject = person?.id;
  }
  let actor: Member | undefined;
  let actorId: string | undefined;
  if (q.actor) {
    const found = matchPeople(candidates.actor, q.actor);
    if (found.length > 1) return { ok: false, field: 'actor', problem: `${found.length} people match: choose one below`, choices: found.slice(0, 20) };
    actor = found[0];
    // Not a person: a device id or a system actor ("rights", "system"), matched as written.
    actorId = actor?.id ?? q.actor;
  }
  const query: AuditQuery = {
    limit: AUDIT_PAGE_SIZE,
    ...(actorId ? { actor: actorId } : {}),
    ...(q.action ? { action: q.action } : {}),
    ...(subject ? { subject } : {}),
    ...(q.from ? { from: dayStartIn(q.from, timeZone).toISOString() } : {}),
    ...(q.to ? { to: dayStartIn(q.to, timeZone, 1).toISOString() } : {}),
    ...(q.before ? { before: q.before } : {}),
  };
  return { ok: true, query, person, actor };
}
