import { weekOf } from '@icarus/shared';
import type { ExportRow, UserDayTotal } from '../analytics';
import { judgeSlices } from './threshold';

/**
 * The unit every published number is built from: a cell is one group (a team, or the people
 * without a team) on one day of the org's calendar, holding the person-days attributed to that
 * group that day (membership as it was). A cell passes when at least `k` distinct people were
 * active in it. Every figure a report shows is a sum of passing cells, so two figures over
 * overlapping ranges, or a team and the org around it, differ by whole passing cells: never by
 * a suppressed cell, never by fewer than `k` people's time.
 */
export interface Sums {
  active: number;
  idle: number;
  productive: number;
}

export interface DayCell {
  day: string;
  /** People with active time in the cell: who the threshold counts. */
  people: Set<string>;
  sums: Sums;
}

export const zero = (): Sums => ({ active: 0, idle: 0, productive: 0 });

export function addSums(into: Sums, s: Sums): Sums {
  into.active += s.active;
  into.idle += s.idle;
  into.productive += s.productive;
  return into;
}

/** One group's person-days as its day cells. */
export function dayCells(rows: readonly UserDayTotal[]): Map<string, DayCell> {
  const cells = new Map<string, DayCell>();
  for (const r of rows) {
    const cell = cells.get(r.day) ?? { day: r.day, people: new Set<string>(), sums: zero() };
    if (r.activeMs > 0) cell.people.add(r.userId);
    addSums(cell.sums, { active: r.activeMs, idle: r.idleMs, productive: r.productiveMs });
    cells.set(r.day, cell);
  }
  return cells;
}

export const passes = (people: number, k: number) => people >= k;

/** A day's pooled rows: in no row of its own, shown as one "other" figure (it has `k` people or is empty). */
export interface Pool {
  people: Set<string>;
  rows: number;
  active: number;
  idle: number;
  spans: number;
}

/**
 * One group-day's rows by app, category and productivity, the finest slices any report or
 * export shows. Nothing of a day whose cell fails; within a passing day, rows of fewer than `k`
 * people are pooled, and while the pool is under `k` the smallest rows join it, so the day's
 * total minus its shown rows reveals no small group either. Every per-app and per-category
 * figure is a sum of these shown rows, and "other" a sum of these pools, so the summary, the
 * CSV and their differences are all built from the same judged slices.
 */
export function judgeDayRows(rows: readonly ExportRow[], k: number): { passes: boolean; shown: ExportRow[]; pool: Pool } {
  const pool: Pool = { people: new Set(), rows: 0, active: 0, idle: 0, spans: 0 };
  const everyone = new Set(rows.flatMap((r) => r.peopleIds));
  if (!passes(everyone.size, k)) return { passes: false, shown: [], pool };
  const judged = judgeSlices(
    rows.map((r, i) => ({ key: String(i).padStart(6, '0'), people: new Set(r.peopleIds), value: r })),
    k,
    { partsOfShownTotal: true },
  );
  const shown: ExportRow[] = [];
  for (const j of judged) {
    if (!j.suppressed) {
      shown.push(j.value);
      continue;
    }
    for (const p of j.value.peopleIds) pool.people.add(p);
    pool.rows++;
    pool.active += j.value.activeMs;
    pool.idle += j.value.idleMs;
    pool.spans += j.value.spans;
  }
  return { passes: true, shown, pool };
}

/** Rows grouped by day, in the order given. */
export function byDay<T extends { day: string }>(rows: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const list = out.get(r.day) ?? [];
    list.push(r);
    out.set(r.day, list);
  }
  return out;
}

/** The Monday (ISO week start) of a day, as PostgreSQL's date_trunc('week') gives it. */
export function mondayOf(day: string): string {
  return weekOf(day).week;
}
