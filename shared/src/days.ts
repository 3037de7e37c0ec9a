import { z } from 'zod';

/**
 * Calendar days as `YYYY-MM-DD` strings and the ranges of them that reports and compliance
 * read. Days are computed in UTC arithmetic: a day string is already in the org's calendar,
 * so adding days to it must not pass through any local time zone.
 */

const DAY_MS = 86_400_000;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const time = (day: string) => Date.parse(`${day}T00:00:00Z`);

/** A range left open defaults to the four weeks up to `to` (today when `to` is left open too). */
export const DEFAULT_RANGE_DAYS = 28;
/** A year, leap day included: long enough for an annual report, short enough to bound a query. */
export const MAX_RANGE_DAYS = 366;

/** True for a day that exists: 2024-02-29 does, 2026-02-30 does not (Date.parse would roll it into March). */
export function isRealDay(day: string): boolean {
  if (!DAY_PATTERN.test(day)) return false;
  const t = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === day;
}

/**
 * The days a query may name. PostgreSQL has no year 0, a day string has four digits for its
 * year, and reports step weeks past either end of a range (the default start, whole ISO weeks):
 * a day far inside both ends keeps every day computed from it a real one. Nothing the product
 * records predates 1970.
 */
export const FIRST_DAY = '1970-01-01';
export const LAST_DAY = '9998-12-31';
export const CALENDAR_PROBLEM = `must be between ${FIRST_DAY} and ${LAST_DAY}`;

/** True for an instant (a day, or an ISO date-time) from FIRST_DAY to the end of LAST_DAY, UTC. */
export function isInCalendar(dayOrInstant: string): boolean {
  const t = Date.parse(DAY_PATTERN.test(dayOrInstant) ? `${dayOrInstant}T00:00:00Z` : dayOrInstant);
  return !Number.isNaN(t) && t >= time(FIRST_DAY) && t < time(LAST_DAY) + DAY_MS;
}

export const Day = z
  .string()
  .regex(DAY_PATTERN, { message: 'must be a date YYYY-MM-DD', abort: true })
  .refine(isRealDay, { message: 'is not a real date', abort: true })
  .refine(isInCalendar, CALENDAR_PROBLEM);
export type Day = z.infer<typeof Day>;

export function addDays(day: string, n: number): string {
  return new Date(time(day) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Days from `from` to `to`, both included (a single day is 1). */
export function daysBetween(from: string, to: string): number {
  return Math.round((time(to) - time(from)) / DAY_MS) + 1;
}

/** The Monday of a day's ISO week (as PostgreSQL's date_trunc('week') gives it) and the day's bit, Monday = 1 to Sunday = 64. */
export function weekOf(day: string): { week: string; bit: number } {
  const offset = (new Date(time(day)).getUTCDay() + 6) % 7;
  return { week: addDays(day, -offset), bit: 1 << offset };
}

/** Why `from`..`to` is not a range a report accepts, or undefined when it is one. */
export function dayRangeProblem(from: string, to: string): { problem: string; message: string } | undefined {
  if (from > to) return { problem: 'after to', message: 'from must not be after to' };
  const days = daysBetween(from, to);
  if (days > MAX_RANGE_DAYS) return { problem: `range of ${days} days`, message: `a range spans at most ${MAX_RANGE_DAYS} days` };
  return undefined;
}

/** The range a query means: open ends filled with today and the default length. Check it with dayRangeProblem. */
export function defaultDayRange(q: { from?: string | undefined; to?: string | undefined }, today: string): { from: string; to: string } {
  const to = q.to ?? today;
  return { from: q.from ?? addDays(to, -(DEFAULT_RANGE_DAYS - 1)), to };
}

/** The `from`/`to` fields of a range query, for schemas that add fields of their own. */
export const DayRangeFields = { from: Day.optional(), to: Day.optional() };

/** The range rules for a query with both ends given; add to any schema holding DayRangeFields. */
export function checkDayRange(q: { from?: string | undefined; to?: string | undefined }, ctx: z.RefinementCtx): void {
  if (q.from === undefined || q.to === undefined) return;
  const bad = dayRangeProblem(q.from, q.to);
  if (bad) ctx.addIssue({ code: 'custom', path: ['from'], message: bad.message });
}

export const DayRange = z.object(DayRangeFields).superRefine(checkDayRange);
export type DayRange = z.infer<typeof DayRange>;

/**
 * The first instant of raw history an org keeps: UTC midnight of today, `retentionDays` back.
 * The nightly retention job deletes what starts before it, so an import never brings it in.
 */
export function retentionStartMs(nowMs: number, retentionDays: number): number {
  const d = new Date(nowMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - retentionDays * 86_400_000;
}
