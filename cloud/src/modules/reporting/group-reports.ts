import type { ExportRow, OrgCells, UserDayTotal } from '../analytics';
import { addSums, byDay, dayCells, judgeDayRows, mondayOf, passes, zero, type Sums } from './cells';
import { addDays } from '@icarus/shared';
import { figures, hidden } from './context';
import type { TeamComparison, TeamSummary, Trend } from './schemas';

/**
 * The reports as pure functions of the rollup rows they read, so the rule (every figure a sum
 * of passing cells) lives in one place, the service only reads and audits, and the property
 * test drives exactly this code on thousands of generated orgs.
 */
const TOP_APPS = 10;

type LeftOut = Trend['weeks'][number]['leftOut'];
const fig = (s: Sums) => figures(s.active, s.idle, s.productive);

export type SummaryBody = Omit<TeamSummary, 'team' | 'range' | 'minGroupSize'>;

export function summarize(personDays: readonly UserDayTotal[], appRows: readonly ExportRow[], range: { from: string; to: string }, k: number): SummaryBody {
  const cells = dayCells(personDays);
  const people = new Set<string>();
  const total = zero();
  const days: TeamSummary['days'] = [];
  let leftOut = 0;
  for (let day = range.from; day <= range.to; day = addDays(day, 1)) {
    const cell = cells.get(day);
    if (!cell) days.push({ day, figures: figures(0, 0, 0), hidden: null });
    else if (!passes(cell.people.size, k)) {
      // Fewer than k people active (a day of idle time only included): in no figure of this report.
      days.push({ day, figures: null, hidden: hidden('too_few_people') });
      leftOut++;
    } else {
      days.push({ day, figures: fig(cell.sums), hidden: null });
      addSums(total, cell.sums);
      for (const p of cell.people) people.add(p);
    }
  }
  if (people.size < k) {
    return { hidden: hidden('too_few_people'), people: null, totals: null, days: [], topApps: [], categories: [], otherApps: null, notes: [] };
  }

  const apps = new Map<string, { active: number; categories: Map<string, number> }>();
  const categories = new Map<string, { category: string; productivity: ExportRow['productivity']; active: number }>();
  const other = { apps: new Set<string>(), active: 0 };
  for (const [day, rows] of byDay(appRows)) {
    const cell = cells.get(day);
    if (!cell || !passes(cell.people.size, k)) continue;
    const { shown, pool } = judgeDayRows(rows, k);
    for (const r of shown) {
      const a = apps.get(r.app) ?? { active: 0, categories: new Map<string, number>() };
      a.active += r.activeMs;
      a.categories.set(r.category, (a.categories.get(r.category) ?? 0) + r.activeMs);
      apps.set(r.app, a);
      const key = `${r.category}|${r.productivity}`;
      const c = categories.get(key) ?? { category: r.category, productivity: r.productivity, active: 0 };
      c.active += r.activeMs;
      categories.set(key, c);
    }
    if (pool.rows > 0) {
      for (const r of rows) if (!shown.includes(r)) other.apps.add(r.app);
      other.active += pool.active;
    }
  }
  const share = (ms: number) => (total.active > 0 ? Math.min(1, ms / total.active) : 0);
  const ranked = [...apps.entries()].filter(([, a]) => a.active > 0).sort((x, y) => y[1].active - x[1].active || x[0].localeCompare(y[0]));
  const topApps = ranked.slice(0, TOP_APPS).map(([app, a]) => {
    const category = [...a.categories.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 'Uncategorized';
    return { app, category, activeMs: a.active, share: share(a.active) };
  });
  for (const [app, a] of ranked.slice(TOP_APPS)) {
    other.apps.add(app);
    other.active += a.active;
  }
  const notes: string[] = [];
  if (leftOut > 0) notes.push('Days with fewer people active than the minimum group size are hidden and left out of every total, share and breakdown.');
  if (other.active > 0 && ranked.length + other.apps.size > topApps.length) {
    notes.push('Apps and categories used by fewer people than the minimum group size on a day are counted only under other apps.');
  }
  return {
    hidden: null,
    people: people.size,
    totals: fig(total),
    days,
    topApps,
    categories: [...categories.values()]
      .filter((c) => c.active > 0)
      .sort((a, b) => b.active - a.active || a.category.localeCompare(b.category))
      .map((c) => ({ category: c.category, productivity: c.productivity, activeMs: c.active, share: share(c.active) })),
    otherApps: other.apps.size > 0 ? { apps: other.apps.size, activeMs: other.active } : null,
    notes,
  };
}

/** A team's weeks: each the sum of its passing days (cells at the day grain). */
export function teamWeeks(teamId: string, personDays: readonly UserDayTotal[], k: number): Trend['weeks'] {
  const weeks = new Map<string, { people: Set<string>; sums: Sums; shown: number; leftOut: LeftOut }>();
  for (const cell of dayCells(personDays).values()) {
    const week = mondayOf(cell.day);
    const w = weeks.get(week) ?? { people: new Set<string>(), sums: zero(), shown: 0, leftOut: [] };
    if (passes(cell.people.size, k)) {
      addSums(w.sums, cell.sums);
      for (const p of cell.people) w.people.add(p);
      w.shown++;
    } else if (cell.people.size > 0) w.leftOut.push({ teamId, day: cell.day, reason: 'too_few_people' });
    weeks.set(week, w);
  }
  return [...weeks.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([week, w]) => ({ week, ...weekFigures(w.shown, w.people.size, w.sums), leftOut: sortLeftOut(w.leftOut) }));
}

/** The org's weeks: each the sum of every group's passing days in it, people without a team included. */
export function orgWeeks(org: OrgCells, k: number): Trend['weeks'] {
  const weeks = new Map<string, { sums: Sums; shown: number; leftOut: LeftOut }>();
  for (const c of org.cells) {
    const week = mondayOf(c.day);
    const w = weeks.get(week) ?? { sums: zero(), shown: 0, leftOut: [] };
    if (passes(c.people, k)) {
      addSums(w.sums, { active: c.activeMs, idle: c.idleMs, productive: c.productiveMs });
      w.shown++;
    } else if (c.people > 0) w.leftOut.push({ teamId: c.teamId, day: c.day, reason: 'too_few_people' });
    weeks.set(week, w);
  }
  return [...weeks.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([week, w]) => ({ week, ...weekFigures(w.shown, org.peopleByWeek.get(week) ?? 0, w.sums), leftOut: sortLeftOut(w.leftOut) }));
}

function weekFigures(shownCells: number, people: number, sums: Sums) {
  return shownCells === 0 ? { people: null, figures: null, hidden: hidden('too_few_people') } : { people, figures: fig(sums), hidden: null };
}

/** Teams, people without a team, and the org: each the sum of its passing cells over the range. */
export function compareGroups(org: OrgCells, teams: readonly { id: string; name: string }[], k: number): Omit<TeamComparison, 'range' | 'minGroupSize'> {
  const groups = new Map<string | null, { sums: Sums; cells: number; shown: number }>();
  const all = { sums: zero(), cells: 0, shown: 0 };
  const leftOut: LeftOut = [];
  for (const c of org.cells) {
    const g = groups.get(c.teamId) ?? { sums: zero(), cells: 0, shown: 0 };
    if (c.people > 0) {
      g.cells++;
      all.cells++;
    }
    if (passes(c.people, k)) {
      const s = { active: c.activeMs, idle: c.idleMs, productive: c.productiveMs };
      addSums(g.sums, s);
      addSums(all.sums, s);
      g.shown++;
      all.shown++;
    } else if (c.people > 0) leftOut.push({ teamId: c.teamId, day: c.day, reason: 'too_few_people' });
    groups.set(c.teamId, g);
  }
  const figuresOf = (g: { sums: Sums; cells: number; shown: number } | undefined, people: number) => {
    if (!g || g.cells === 0) return { people: 0, figures: fig(zero()), hidden: null };
    if (g.shown === 0) return { people: null, figures: null, hidden: hidden('too_few_people') };
    return { people, figures: fig(g.sums), hidden: null };
  };
  return {
    org: figuresOf(all, org.people),
    teams: teams.map((t) => ({ id: t.id, name: t.name, ...figuresOf(groups.get(t.id), org.peopleByGroup.get(t.id) ?? 0) })),
    noTeam: figuresOf(groups.get(null), org.peopleByGroup.get(null) ?? 0),
    leftOut: sortLeftOut(leftOut),
  };
}

function sortLeftOut(list: LeftOut): LeftOut {
  return list.sort((a, b) => a.day.localeCompare(b.day) || (a.teamId ?? '').localeCompare(b.teamId ?? ''));
}
