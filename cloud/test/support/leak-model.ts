// Test-only: what the rollup reads would return for a generated org (membership as it was each
// day), and the numbers the reports publish, through the reports' own pure code.
import type { ExportRow, OrgCells, UserDayTotal } from '../../src/modules/analytics';
import { judgeDayRows, mondayOf, passes } from '../../src/modules/reporting/cells';
import { addDays as dayAdd, DEFAULT_WORKING_WEEK } from '@icarus/shared';
import { compareGroups, orgWeeks, summarize, teamWeeks, type SummaryBody } from '../../src/modules/reporting/group-reports';
import { groupCategories, teamApps, type TeamAppsBody } from '../../src/modules/reporting/breakdowns';
import type { TeamComparison, Trend } from '../../src/modules/reporting/schemas';
import { APPS, teamOn, type GenOrg, type Published } from './leak-check';

/** A Monday well in the past. */
export const BASE_DAY = '2026-01-05';
export const dayOf = (d: number) => dayAdd(BASE_DAY, d);
export const indexOfDay = (day: string) => Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${BASE_DAY}T00:00:00Z`)) / 86_400_000);
const span = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function personDaysOf(org: GenOrg, group: number, from: number, to: number, userId: (p: number) => string): UserDayTotal[] {
  const rows: UserDayTotal[] = [];
  org.people.forEach((_, p) => {
    for (const d of span(from, to)) {
      const uses = org.activity[p]?.[d];
      if (!uses || teamOn(org, p, d) !== group) continue;
      let active = 0;
      let idle = 0;
      let productive = 0;
      for (const u of uses) {
        active += u.active;
        idle += u.idle;
        if (APPS[u.app]?.productivity === 'productive') productive += u.active;
      }
      rows.push({ userId: userId(p), day: dayOf(d), activeMs: active, idleMs: idle, productiveMs: productive });
    }
  });
  return rows;
}

export function appRowsOf(org: GenOrg, group: number, from: number, to: number, userId: (p: number) => string): ExportRow[] {
  const rows = new Map<string, ExportRow>();
  for (const d of span(from, to)) {
    org.people.forEach((_, p) => {
      if (teamOn(org, p, d) !== group) return;
      for (const u of org.activity[p]?.[d] ?? []) {
        const app = APPS[u.app];
        if (!app) continue;
        const key = `${d}|${app.app}`;
        const row = rows.get(key) ?? {
          day: dayOf(d),
          userId: null,
          app: app.app,
          category: app.category,
          productivity: app.productivity,
          activeMs: 0,
          idleMs: 0,
          spans: 0,
          peopleIds: [],
        };
        row.activeMs += u.active;
        row.idleMs += u.idle;
        row.spans += 1;
        if (u.active > 0) row.peopleIds.push(userId(p));
        rows.set(key, row);
      }
    });
  }
  return [...rows.values()].sort((a, b) => a.day.localeCompare(b.day) || (a.app < b.app ? -1 : 1));
}

export function orgCellsOf(org: GenOrg, from: number, to: number, k: number, teamId: (t: number) => string): OrgCells {
  const cells: OrgCells = { cells: [], peopleByWeek: new Map(), peopleByGroup: new Map(), people: 0 };
  const weekPeople = new Map<string, Set<number>>();
  const groupPeople = new Map<string | null, Set<number>>();
  const all = new Set<number>();
  for (const d of span(from, to)) {
    for (let g = -1; g < org.teams; g++) {
      const rows = personDaysOf(org, g, d, d, String);
      if (rows.length === 0) continue;
      const id = g === -1 ? null : teamId(g);
      const people = rows.filter((r) => r.activeMs > 0).map((r) => Number(r.userId));
      const sum = (f: (r: UserDayTotal) => number) => rows.reduce((n, r) => n + f(r), 0);
      cells.cells.push({
        teamId: id,
        day: dayOf(d),
        people: people.length,
        activeMs: sum((r) => r.activeMs),
        idleMs: sum((r) => r.idleMs),
        productiveMs: sum((r) => r.productiveMs),
      });
      if (!passes(people.length, k)) continue;
      const week = mondayOf(dayOf(d));
      for (const p of people) {
        weekPeople.set(week, (weekPeople.get(week) ?? new Set()).add(p));
        groupPeople.set(id, (groupPeople.get(id) ?? new Set()).add(p));
        all.add(p);
      }
    }
  }
  for (const [w, s] of weekPeople) cells.peopleByWeek.set(w, s.size);
  for (const [g, s] of groupPeople) cells.peopleByGroup.set(g, s.size);
  cells.people = all.size;
  return cells;
}

/** The days of a range inside one week (a trend's week row covers those). */
const weekDays = (week: string, from: number, to: number) => span(from, to).filter((d) => mondayOf(dayOf(d)) === week);

/** The previous period of a range [from, to]: as many days, just before. */
export const previousOf = (from: number, to: number): [number, number] => [from - (to - from + 1), from - 1];

export function summaryNumbers(
  label: string,
  group: number,
  from: number,
  to: number,
  s: SummaryBody & { previous: { totals: SummaryBody['totals']; meetings: SummaryBody['meetings'] } | null },
): Published[] {
  const out: Published[] = [];
  const days = span(from, to);
  if (s.meetings) out.push({ label: `${label} meetings`, scope: group, days, filter: 'cat:Meetings', value: s.meetings.activeMs });
  if (s.previous) {
    const before = span(...previousOf(from, to));
    if (s.previous.totals) out.push({ label: `${label} previous total`, scope: group, days: before, filter: 'all', value: s.previous.totals.activeMs });
    if (s.previous.meetings)
      out.push({ label: `${label} previous meetings`, scope: group, days: before, filter: 'cat:Meetings', value: s.previous.meetings.activeMs });
  }
  if (s.totals) out.push({ label: `${label} total`, scope: group, days, filter: 'all', value: s.totals.activeMs });
  for (const d of s.days)
    if (d.figures) out.push({ label: `${label} day ${d.day}`, scope: group, days: [indexOfDay(d.day)], filter: 'all', value: d.figures.activeMs });
  for (const a of s.topApps) out.push({ label: `${label} app ${a.app}`, scope: group, days, filter: `app:${a.app}`, value: a.activeMs });
  for (const c of s.categories) out.push({ label: `${label} category ${c.category}`, scope: group, days, filter: `cat:${c.category}`, value: c.activeMs });
  if (s.otherApps) out.push({ label: `${label} other apps`, scope: group, days, filter: 'other', value: s.otherApps.activeMs });
  return out;
}

/** A team's drill-down: each app over the range and on each day it has a shown row, and the other apps. */
export function teamAppsNumbers(label: string, group: number, from: number, to: number, body: TeamAppsBody): Published[] {
  const days = span(from, to);
  const out: Published[] = [];
  for (const a of body.apps) {
    out.push({ label: `${label} app ${a.app}`, scope: group, days, filter: `app:${a.app}`, value: a.activeMs });
    for (const d of a.days) {
      if (d.activeMs !== null)
        out.push({ label: `${label} app ${a.app} ${d.day}`, scope: group, days: [indexOfDay(d.day)], filter: `app:${a.app}`, value: d.activeMs });
    }
  }
  if (body.otherMs !== null) out.push({ label: `${label} other`, scope: group, days, filter: 'other', value: body.otherMs });
  return out;
}

export function trendNumbers(label: string, scope: number | 'org', from: number, to: number, weeks: Trend['weeks']): Published[] {
  return weeks.flatMap((w) =>
    w.figures ? [{ label: `${label} week ${w.week}`, scope, days: weekDays(w.week, from, to), filter: 'all', value: w.figures.activeMs }] : [],
  );
}

export function comparisonNumbers(
  label: string,
  from: number,
  to: number,
  c: Omit<TeamComparison, 'range' | 'minGroupSize' | 'highlights'>,
  groupOf: (teamId: string) => number,
): Published[] {
  const days = span(from, to);
  const out: Published[] = [];
  if (c.org.figures) out.push({ label: `${label} org`, scope: 'org', days, filter: 'all', value: c.org.figures.activeMs });
  if (c.noTeam.figures) out.push({ label: `${label} no team`, scope: -1, days, filter: 'all', value: c.noTeam.figures.activeMs });
  for (const t of c.teams) {
    if (t.figures) out.push({ label: `${label} ${t.name}`, scope: groupOf(t.id), days, filter: 'all', value: t.figures.activeMs });
    for (const cat of t.categories)
      out.push({ label: `${label} ${t.name} ${cat.category}`, scope: groupOf(t.id), days, filter: `cat:${cat.category}`, value: cat.activeMs });
  }
  return out;
}

/** A team-level CSV's rows as numbers: one per shown row and per "(other apps)" row. */
export function csvNumbers(label: string, group: number, lines: readonly string[]): Published[] {
  return lines.map((line) => {
    const [day = '', app = '', , , , active = '0'] = line.split(',');
    const other = app === '(other apps)';
    return { label: `${label} ${day} ${app}`, scope: group, days: [indexOfDay(day)], filter: other ? 'other' : `app:${app}`, value: Number(active) };
  });
}

/** Everything the reports publish for a generated org, computed by the reports' pure code. */
export function modelNumbers(org: GenOrg): Published[] {
  const user = (p: number) => `u${p}`;
  const team = (t: number) => `t${t}`;
  const teams = Array.from({ length: org.teams }, (_, t) => ({ id: team(t), name: `Team ${t}` }));
  const out: Published[] = [];
  for (const [from, to] of org.ranges) {
    const tag = `[${from}..${to}]`;
    for (let t = 0; t < org.teams; t++) {
      const personDays = personDaysOf(org, t, from, to, user);
      const apps = appRowsOf(org, t, from, to, user);
      const [pf, pt] = previousOf(from, to);
      const previous = summarize(
        personDaysOf(org, t, pf, pt, user),
        appRowsOf(org, t, pf, pt, user),
        { from: dayOf(pf), to: dayOf(pt) },
        org.k,
        [],
        DEFAULT_WORKING_WEEK,
      );
      const range = { from: dayOf(from), to: dayOf(to) };
      out.push(...summaryNumbers(`summary ${t} ${tag}`, t, from, to, { ...summarize(personDays, apps, range, org.k, [], DEFAULT_WORKING_WEEK), previous }));
      out.push(...teamAppsNumbers(`apps ${t} ${tag}`, t, from, to, teamApps(personDays, apps, range, org.k, null)));
      out.push(...teamAppsNumbers(`apps Development ${t} ${tag}`, t, from, to, teamApps(personDays, apps, range, org.k, 'Development')));
      out.push(...trendNumbers(`trend ${t} ${tag}`, t, from, to, teamWeeks(team(t), personDays, org.k)));
      const csv: string[] = [];
      for (const d of span(from, to)) {
        const { shown, pool } = judgeDayRows(
          apps.filter((r) => r.day === dayOf(d)),
          org.k,
        );
        for (const r of shown) csv.push(`${r.day},${r.app},,,,${r.activeMs}`);
        if (pool.rows > 0 && pool.people.size >= org.k) csv.push(`${dayOf(d)},(other apps),,,,${pool.active}`);
      }
      out.push(...csvNumbers(`csv ${t} ${tag}`, t, csv));
    }
    const cells = orgCellsOf(org, from, to, org.k, team);
    out.push(...trendNumbers(`org trend ${tag}`, 'org', from, to, orgWeeks(cells, org.k)));
    const orgRows = Array.from({ length: org.teams + 1 }, (_, g) => g - 1).flatMap((g) =>
      appRowsOf(org, g, from, to, user).map((r) => ({ ...r, teamId: g === -1 ? null : team(g) })),
    );
    const categories = groupCategories(cells.cells, orgRows, org.k);
    out.push(...comparisonNumbers(`comparison ${tag}`, from, to, compareGroups(cells, teams, org.k, categories), (id) => Number(id.slice(1))));
  }
  return out;
}
