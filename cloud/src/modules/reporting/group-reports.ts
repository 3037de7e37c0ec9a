import type { ExportRow, FocusDay, OrgCells, UserDayTotal } from '../analytics';
import { addSums, byDay, dayCells, judgeDayRows, mondayOf, passes, zero, type Sums } from './cells';
import { addDays, describeWorkingWeek, type WorkingWeek } from '@icarus/shared';
import { figures } from './context';
import type { TeamComparison, TeamSummary, Trend } from './schemas';

/**
 * The reports as pure functions of the rollup rows they read, so the rule (every figure a sum
 * of passing cells) lives in one place, the service only reads and audits, and the property
 * test drives exactly this code on thousands of generated orgs.
 */
const TOP_APPS = 10;

type LeftOut = Trend['weeks'][number]['leftOut'];
const fig = (s: Sums) => figures(s.active, s.idle, s.productive);

export type SummaryBody = Omit<TeamSummary, 'team' | 'range' | 'minGroupSize' | 'previous' | 'highlights'>;

/** The meetings category of the built-in rules: its share of active time is the meeting load. */
export const MEETINGS = 'Meetings';

/**
 * Hidden for too few people, saying how many were active (on the day, or on the busiest day of a
 * longer period) and how many the policy needs.
 */
export function tooFew(people: number, k: number) {
  return {
    reason: 'too_few_people' as const,
    explanation: `Hidden: ${people} of ${k} people needed. Figures are shown only for days on which at least ${k} people were active (the policy\u2019s minimum group size).`,
    people,
    needed: k,
  };
}

export function summarize(
  personDays: readonly UserDayTotal[],
  appRows: readonly ExportRow[],
  range: { from: string; to: string },
  k: number,
  focusDays: readonly FocusDay[],
  week: WorkingWeek,
): SummaryBody {
  const cells = dayCells(personDays);
  const people = new Set<string>();
  const total = zero();
  const days: SummaryBody['days'] = [];
  let leftOut = 0;
  let personDaysShown = 0;
  let most = 0;
  for (let day = range.from; day <= range.to; day = addDays(day, 1)) {
    const cell = cells.get(day);
    if (!cell || cell.people.size === 0) {
      // No one active (idle time alone counts no one, and is in no figure): a day of no activity.
      days.push({ day, state: 'no_activity', figures: figures(0, 0, 0), hidden: null });
    } else if (!passes(cell.people.size, k)) {
      // Fewer than k people active: in no figure of this report.
      days.push({ day, state: 'hidden', figures: null, hidden: tooFew(cell.people.size, k) });
      most = Math.max(most, cell.people.size);
      leftOut++;
    } else {
      days.push({ day, state: 'shown', figures: fig(cell.sums), hidden: null });
      addSums(total, cell.sums);
      for (const p of cell.people) people.add(p);
      personDaysShown += cell.people.size;
    }
  }
  const empty = {
    people: null,
    totals: null,
    topApps: [],
    categories: [],
    otherApps: null,
    notes: [],
    perPerson: null,
    meetings: null,
    focus: null,
    afterHours: null,
  };
  if (people.size < k) {
    // No passing day: hidden when someone was active (the most on one day of how many needed), else nothing recorded.
    if (most === 0) return { status: 'no_activity', hidden: null, days, ...empty };
    return { status: 'hidden', hidden: tooFew(most, k), days: [], ...empty };
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
  if (leftOut > 0)
    notes.push(`Days with fewer than ${k} people active (the policy\u2019s minimum group size) are hidden and left out of every total, share and breakdown.`);
  if (other.active > 0 && ranked.length + other.apps.size > topApps.length) {
    notes.push(`Apps and categories used by fewer than ${k} people on a day are counted only under other apps.`);
  }
  const categoryList = [...categories.values()]
    .filter((c) => c.active > 0)
    .sort((a, b) => b.active - a.active || a.category.localeCompare(b.category))
    .map((c) => ({ category: c.category, productivity: c.productivity, activeMs: c.active, share: share(c.active) }));
  // Focus and after hours: person-days of passing cells only, like every other figure.
  let focusMs = 0;
  let afterMs = 0;
  for (const f of focusDays) {
    const cell = cells.get(f.day);
    if (f.day < range.from || f.day > range.to || !cell || !passes(cell.people.size, k)) continue;
    focusMs += f.focusMs;
    afterMs += f.afterHoursMs;
  }
  const meetingMs = categoryList.filter((c) => c.category === MEETINGS).reduce((n, c) => n + c.activeMs, 0);
  return {
    status: 'shown',
    hidden: null,
    people: people.size,
    totals: fig(total),
    days,
    topApps,
    categories: categoryList,
    otherApps: other.apps.size > 0 ? { apps: other.apps.size, activeMs: other.active } : null,
    notes,
    perPerson: {
      personDays: personDaysShown,
      activeMsPerPerson: total.active / people.size,
      activeMsPerPersonDay: total.active / personDaysShown,
      idleMsPerPersonDay: total.idle / personDaysShown,
    },
    meetings: { activeMs: meetingMs, share: share(meetingMs) },
    focus: { activeMs: focusMs, msPerPersonDay: focusMs / personDaysShown, share: share(focusMs) },
    afterHours: { activeMs: afterMs, share: share(afterMs), outside: describeWorkingWeek(week), workingWeek: week },
  };
}

/** A team's weeks: each the sum of its passing days (cells at the day grain). */
export function teamWeeks(teamId: string, personDays: readonly UserDayTotal[], k: number): Trend['weeks'] {
  const weeks = new Map<string, { people: Set<string>; sums: Sums; shown: number; most: number; leftOut: LeftOut }>();
  for (const cell of dayCells(personDays).values()) {
    const week = mondayOf(cell.day);
    const w = weeks.get(week) ?? { people: new Set<string>(), sums: zero(), shown: 0, most: 0, leftOut: [] };
    w.most = Math.max(w.most, cell.people.size);
    if (passes(cell.people.size, k)) {
      addSums(w.sums, cell.sums);
      for (const p of cell.people) w.people.add(p);
      w.shown++;
    } else if (cell.people.size > 0) w.leftOut.push({ teamId, day: cell.day, reason: 'too_few_people' });
    weeks.set(week, w);
  }
  return [...weeks.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([week, w]) => ({ week, ...weekFigures(w.shown, w.people.size, w.sums, w.most, k), leftOut: sortLeftOut(w.leftOut) }));
}

/** The org's weeks: each the sum of every group's passing days in it, people without a team included. */
export function orgWeeks(org: OrgCells, k: number): Trend['weeks'] {
  const weeks = new Map<string, { sums: Sums; shown: number; most: number; leftOut: LeftOut }>();
  for (const c of org.cells) {
    const week = mondayOf(c.day);
    const w = weeks.get(week) ?? { sums: zero(), shown: 0, most: 0, leftOut: [] };
    w.most = Math.max(w.most, c.people);
    if (passes(c.people, k)) {
      addSums(w.sums, { active: c.activeMs, idle: c.idleMs, productive: c.productiveMs });
      w.shown++;
    } else if (c.people > 0) w.leftOut.push({ teamId: c.teamId, day: c.day, reason: 'too_few_people' });
    weeks.set(week, w);
  }
  return [...weeks.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([week, w]) => ({ week, ...weekFigures(w.shown, org.peopleByWeek.get(week) ?? 0, w.sums, w.most, k), leftOut: sortLeftOut(w.leftOut) }));
}

function weekFigures(shownCells: number, people: number, sums: Sums, most: number, k: number) {
  return shownCells === 0 ? { people: null, figures: null, hidden: tooFew(most, k) } : { people, figures: fig(sums), hidden: null };
}

/** Teams, people without a team, and the org: each the sum of its passing cells over the range. */
export function compareGroups(
  org: OrgCells,
  teams: readonly { id: string; name: string }[],
  k: number,
  categories: ReadonlyMap<string | null, TeamComparison['teams'][number]['categories']> = new Map(),
): Omit<TeamComparison, 'range' | 'minGroupSize' | 'highlights'> {
  const groups = new Map<string | null, { sums: Sums; cells: number; shown: number; most: number }>();
  const all = { sums: zero(), cells: 0, shown: 0, most: 0 };
  const leftOut: LeftOut = [];
  for (const c of org.cells) {
    const g = groups.get(c.teamId) ?? { sums: zero(), cells: 0, shown: 0, most: 0 };
    g.most = Math.max(g.most, c.people);
    all.most = Math.max(all.most, c.people);
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
  const figuresOf = (g: { sums: Sums; cells: number; shown: number; most: number } | undefined, people: number) => {
    if (!g || g.cells === 0) return { people: 0, figures: fig(zero()), hidden: null };
    if (g.shown === 0) return { people: null, figures: null, hidden: tooFew(g.most, k) };
    return { people, figures: fig(g.sums), hidden: null };
  };
  return {
    org: figuresOf(all, org.people),
    teams: teams.map((t) => {
      const figured = figuresOf(groups.get(t.id), org.peopleByGroup.get(t.id) ?? 0);
      return { id: t.id, name: t.name, ...figured, categories: figured.figures ? (categories.get(t.id) ?? []) : [] };
    }),
    noTeam: figuresOf(groups.get(null), org.peopleByGroup.get(null) ?? 0),
    leftOut: sortLeftOut(leftOut),
  };
}

function sortLeftOut(list: LeftOut): LeftOut {
  return list.sort((a, b) => a.day.localeCompare(b.day) || (a.teamId ?? '').localeCompare(b.teamId ?? ''));
}
