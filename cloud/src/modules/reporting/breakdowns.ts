import { addDays } from '@icarus/shared';
import type { ExportRow, GroupDayCell, UserDayTotal } from '../analytics';
import { byDay, dayCells, judgeDayRows, passes } from './cells';
import { tooFew } from './group-reports';
import type { TeamApps, TeamComparison } from './schemas';

/**
 * Drill-downs cut from the same judged slices as the team summary and the CSV: a passing
 * (group, day) cell's rows of k people or more, never a pooled or hidden row. A team's
 * category, an app's days and a team's categories on the org page are all sums of those rows.
 */
type CategoryShare = TeamComparison['teams'][number]['categories'][number];

export type TeamAppsBody = Omit<TeamApps, 'team' | 'range' | 'minGroupSize' | 'category'>;

/** A team's apps over its passing days (of one category, or all), each with its shown row per day. */
export function teamApps(
  personDays: readonly UserDayTotal[],
  appRows: readonly ExportRow[],
  range: { from: string; to: string },
  k: number,
  category: string | null,
): TeamAppsBody {
  const cells = dayCells(personDays);
  let total = 0;
  let most = 0;
  for (const cell of cells.values()) {
    most = Math.max(most, cell.people.size);
    if (passes(cell.people.size, k)) total += cell.sums.active;
  }
  if (most === 0) return { status: 'no_activity', hidden: null, totalActiveMs: null, apps: [], otherMs: null };
  if (most < k) return { status: 'hidden', hidden: tooFew(most, k), totalActiveMs: null, apps: [], otherMs: null };
  const apps = new Map<string, { category: string; productivity: ExportRow['productivity']; active: number; days: Map<string, number> }>();
  let other = 0;
  let pooled = false;
  for (const [day, rows] of byDay(appRows)) {
    const cell = cells.get(day);
    if (!cell || !passes(cell.people.size, k)) continue;
    const { shown } = judgeDayRows(rows, k);
    for (const r of rows) {
      if (category !== null && r.category !== category) continue;
      if (!shown.includes(r)) {
        other += r.activeMs;
        pooled = true;
        continue;
      }
      // One row per app per day and category: an app under two categories (title rules) is two entries.
      const key = `${r.app}|${r.category}|${r.productivity}`;
      const a = apps.get(key) ?? { category: r.category, productivity: r.productivity, active: 0, days: new Map<string, number>() };
      a.active += r.activeMs;
      a.days.set(day, (a.days.get(day) ?? 0) + r.activeMs);
      apps.set(key, a);
    }
  }
  const dayList: string[] = [];
  for (let d = range.from; d <= range.to; d = addDays(d, 1)) dayList.push(d);
  const share = (ms: number) => (total > 0 ? Math.min(1, ms / total) : 0);
  return {
    status: 'shown',
    hidden: null,
    totalActiveMs: total,
    apps: [...apps.entries()]
      .filter(([, a]) => a.active > 0)
      .sort((x, y) => y[1].active - x[1].active || x[0].localeCompare(y[0]))
      .map(([key, a]) => ({
        app: key.slice(0, key.indexOf('|')),
        category: a.category,
        productivity: a.productivity,
        activeMs: a.active,
        share: share(a.active),
        days: dayList.map((day) => ({ day, activeMs: a.days.get(day) ?? null })),
      })),
    // The pool of a day is k people or more as a whole; a category's part of it is published only as part of "other apps" overall.
    otherMs: pooled && category === null ? other : null,
  };
}

/**
 * Each group's categories over its passing days: the rows of every passing (group, day) cell,
 * judged as the team summary judges them, summed by category. Keyed by team id (null: no team).
 */
export function groupCategories(cells: readonly GroupDayCell[], rows: readonly (ExportRow & { teamId: string | null })[], k: number) {
  const passing = new Map<string, number>();
  for (const c of cells) if (passes(c.people, k)) passing.set(`${c.teamId ?? ''}|${c.day}`, c.activeMs);
  const byCell = new Map<string, ExportRow[]>();
  for (const r of rows) {
    const key = `${r.teamId ?? ''}|${r.day}`;
    if (!passing.has(key)) continue;
    const list = byCell.get(key) ?? [];
    list.push(r);
    byCell.set(key, list);
  }
  const sums = new Map<string, { total: number; categories: Map<string, CategoryShare> }>();
  for (const [key, cellRows] of byCell) {
    const group = key.slice(0, key.indexOf('|'));
    const g = sums.get(group) ?? { total: 0, categories: new Map<string, CategoryShare>() };
    g.total += passing.get(key) ?? 0;
    for (const r of judgeDayRows(cellRows, k).shown) {
      const ck = `${r.category}|${r.productivity}`;
      const c = g.categories.get(ck) ?? { category: r.category, productivity: r.productivity, activeMs: 0, share: 0 };
      c.activeMs += r.activeMs;
      g.categories.set(ck, c);
    }
    sums.set(group, g);
  }
  const out = new Map<string | null, CategoryShare[]>();
  for (const [group, g] of sums) {
    out.set(
      group === '' ? null : group,
      [...g.categories.values()]
        .filter((c) => c.activeMs > 0)
        .sort((a, b) => b.activeMs - a.activeMs || a.category.localeCompare(b.category))
        .map((c) => ({ ...c, share: g.total > 0 ? Math.min(1, c.activeMs / g.total) : 0 })),
    );
  }
  return out;
}
