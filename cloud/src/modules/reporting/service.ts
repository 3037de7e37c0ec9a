import { addDays, weekOf } from '@icarus/shared';
import { grantedScopesOfPerson } from './consent-state';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { figures, hidden, requireRole, resolveRange, visibilityRules, type ReportDeps, type ResolvedRange } from './context';
import type { PersonDetail, TeamComparison, TeamList, TeamSummary, Trend } from './schemas';
import { judgeSlices, type Slice } from './threshold';

const TOP_APPS = 10;
const MEMBER_CACHE_MS = 5_000;

interface Sums {
  active: number;
  idle: number;
  productive: number;
}

export function createReportingService(deps: ReportDeps) {
  const { queries, analytics, directory, audit, access } = deps;
  const members = new Map<string, { at: number; list: Promise<Awaited<ReturnType<typeof directory.listMembers>>> }>();

  const teamLists = new Map<string, { at: number; list: Promise<Awaited<ReturnType<typeof directory.listTeams>>> }>();

  /**
   * The org's directory, briefly cached: a report burst reads it many times a second, and
   * reading 1,000 people costs more than the report's own rollup query. Five seconds stale
   * at most; who may read a team is still decided per request by the access policy.
   */
  function membersOf(orgId: string) {
    const hit = members.get(orgId);
    if (hit && Date.now() - hit.at < MEMBER_CACHE_MS) return hit.list;
    const list = directory.listMembers(orgId);
    members.set(orgId, { at: Date.now(), list });
    list.catch(() => members.delete(orgId));
    return list;
  }

  /** The org's team names, cached like the members (a team summary needs one name). */
  function teamsOf(orgId: string) {
    const hit = teamLists.get(orgId);
    if (hit && Date.now() - hit.at < MEMBER_CACHE_MS) return hit.list;
    const list = directory.listTeams(orgId);
    teamLists.set(orgId, { at: Date.now(), list });
    list.catch(() => teamLists.delete(orgId));
    return list;
  }

  async function teamOf(user: SignedInUser, teamId: string) {
    const [, teams, people] = await Promise.all([access.assertCanReadPersonalData(user, { teamId }), teamsOf(user.orgId), membersOf(user.orgId)]);
    // A team created since the cached list was read: read the list again once.
    const team = teams.find((t) => t.id === teamId) ?? (await directory.listTeams(user.orgId)).find((t) => t.id === teamId);
    if (!team) throw new AppError('not_found', 'No such team');
    const memberIds = people.filter((m) => m.teamId === teamId).map((m) => m.id);
    return { team, memberIds };
  }

  function viewed(user: SignedInUser, action: string, subjects: Iterable<string>, details: Record<string, unknown>) {
    return audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.userId, action, subjectUserIds: [...new Set(subjects)].sort(), details });
  }

  const rangeOut = (r: ResolvedRange) => ({ from: r.from, to: r.to, timeZone: r.timeZone, days: r.days });

  return {
    membersOf,
    teamOf,
    viewed,

    /** Teams the user may report on: all of an admin's org, a manager's own teams. */
    async teams(user: SignedInUser): Promise<TeamList> {
      const [all, calendar] = await Promise.all([directory.listTeams(user.orgId), analytics.orgCalendar(user.orgId)]);
      const visible = user.role === 'admin' ? all : all.filter((t) => user.managedTeamIds.includes(t.id));
      return { teams: visible, today: calendar.today, timeZone: calendar.timeZone };
    },

    async teamSummary(user: SignedInUser, q: { teamId: string; from?: string | undefined; to?: string | undefined }): Promise<TeamSummary> {
      // Access, range and policy first, side by side (none reads activity); then the rollups.
      const [{ team, memberIds }, range, { minGroupSize: k }] = await Promise.all([
        teamOf(user, q.teamId),
        resolveRange(analytics, user.orgId, q),
        visibilityRules(deps.consent, user.orgId),
      ]);
      // The audit of whose data was read is written while the per-app rows are still being
      // read; nothing is returned unless both succeed.
      const [{ dayRows, people }, appRows] = await Promise.all([
        queries.userDayTotals(user.orgId, memberIds, range.from, range.to).then(async (dayRows) => {
          const people = new Set(dayRows.map((r) => r.userId));
          await viewed(user, 'report.team_summary.viewed', people, { teamId: team.id, from: range.from, to: range.to });
          return { dayRows, people };
        }),
        queries.userAppTotals(user.orgId, memberIds, range.from, range.to),
      ]);
      const base = { team, range: rangeOut(range), minGroupSize: k, notes: [] as string[] };
      if (people.size < k) {
        return { ...base, hidden: hidden('too_few_people'), people: null, totals: null, days: [], topApps: [], categories: [], otherApps: null };
      }

      const byDay = new Map<string, Slice<Sums> & { people: Set<string> }>();
      const total: Sums = { active: 0, idle: 0, productive: 0 };
      for (const r of dayRows) {
        const slice = byDay.get(r.day) ?? { key: r.day, people: new Set<string>(), value: { active: 0, idle: 0, productive: 0 } };
        slice.people.add(r.userId);
        slice.value.active += r.activeMs;
        slice.value.idle += r.idleMs;
        slice.value.productive += r.productiveMs;
        byDay.set(r.day, slice);
        total.active += r.activeMs;
        total.idle += r.idleMs;
        total.productive += r.productiveMs;
      }
      const judgedDays = new Map(judgeSlices([...byDay.values()], k, { partsOfShownTotal: true }).map((j) => [j.key, j]));
      const days: TeamSummary['days'] = [];
      for (let day = range.from; day <= range.to; day = addDays(day, 1)) {
        const j = judgedDays.get(day);
        if (!j) days.push({ day, figures: figures(0, 0, 0), hidden: null });
        else if (j.suppressed) days.push({ day, figures: null, hidden: hidden(j.suppressed) });
        else days.push({ day, figures: figures(j.value.active, j.value.idle, j.value.productive), hidden: null });
      }

      const byApp = new Map<string, Slice<{ active: number; categories: Map<string, number> }> & { people: Set<string> }>();
      const byCategory = new Map<string, Slice<{ active: number; category: string; productivity: 'productive' | 'neutral' | 'unproductive' }> & { people: Set<string> }>();
      for (const r of appRows) {
        const a = byApp.get(r.app) ?? { key: r.app, people: new Set<string>(), value: { active: 0, categories: new Map<string, number>() } };
        if (r.activeMs > 0) a.people.add(r.userId);
        a.value.active += r.activeMs;
        a.value.categories.set(r.category, (a.value.categories.get(r.category) ?? 0) + r.activeMs);
        byApp.set(r.app, a);
        const ck = `${r.category}|${r.productivity}`;
        const c = byCategory.get(ck) ?? { key: ck, people: new Set<string>(), value: { active: 0, category: r.category, productivity: r.productivity } };
        if (r.activeMs > 0) c.people.add(r.userId);
        c.value.active += r.activeMs;
        byCategory.set(ck, c);
      }
      const share = (ms: number) => (total.active > 0 ? Math.min(1, ms / total.active) : 0);
      const apps = judgeSlices([...byApp.values()].filter((a) => a.value.active > 0), k, { partsOfShownTotal: true });
      const shownApps = apps.filter((a) => !a.suppressed).sort((a, b) => b.value.active - a.value.active);
      const topApps = shownApps.slice(0, TOP_APPS).map((a) => {
        const category = [...a.value.categories.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 'Uncategorized';
        return { app: a.key, category, activeMs: a.value.active, share: share(a.value.active) };
      });
      const rest = [...apps.filter((a) => a.suppressed), ...shownApps.slice(TOP_APPS)];
      const restPeople = new Set(rest.flatMap((a) => [...a.people]));
      const otherApps = rest.length > 0 && restPeople.size >= k ? { apps: rest.length, activeMs: rest.reduce((n, a) => n + a.value.active, 0) } : null;
      const cats = judgeSlices([...byCategory.values()].filter((c) => c.value.active > 0), k, { partsOfShownTotal: true });
      const categories = cats
        .filter((c) => !c.suppressed)
        .sort((a, b) => b.value.active - a.value.active)
        .map((c) => ({ category: c.value.category, productivity: c.value.productivity, activeMs: c.value.active, share: share(c.value.active) }));
      if (cats.some((c) => c.suppressed)) base.notes.push('Some categories used by fewer people than the minimum group size are not listed.');
      if ([...judgedDays.values()].some((d) => d.suppressed)) base.notes.push('Days with too few people active are hidden; their time is still in the totals.');
      return {
        ...base,
        hidden: null,
        people: people.size,
        totals: figures(total.active, total.idle, total.productive),
        days,
        topApps,
        categories,
        otherApps,
      };
    },

    /** Weekly trend of one team (current members), each week judged on its own. */
    async teamTrend(user: SignedInUser, q: { teamId: string; from?: string | undefined; to?: string | undefined }): Promise<Trend> {
      const [{ team, memberIds }, range, { minGroupSize: k }] = await Promise.all([
        teamOf(user, q.teamId),
        resolveRange(analytics, user.orgId, q),
        visibilityRules(deps.consent, user.orgId),
      ]);
      const rows = await queries.userDayTotals(user.orgId, memberIds, range.from, range.to);
      const weeks = new Map<string, { people: Set<string>; s: Sums }>();
      for (const r of rows) {
        const week = weekOf(r.day).week;
        const w = weeks.get(week) ?? { people: new Set<string>(), s: { active: 0, idle: 0, productive: 0 } };
        w.people.add(r.userId);
        w.s.active += r.activeMs;
        w.s.idle += r.idleMs;
        w.s.productive += r.productiveMs;
        weeks.set(week, w);
      }
      await viewed(user, 'report.team_trend.viewed', rows.map((r) => r.userId), { teamId: team.id, from: range.from, to: range.to });
      return {
        scope: { kind: 'team', id: team.id, name: team.name },
        range: rangeOut(range),
        minGroupSize: k,
        weeks: [...weeks.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([week, w]) =>
            w.people.size < k
              ? { week, people: null, figures: null, hidden: hidden('too_few_people') }
              : { week, people: w.people.size, figures: figures(w.s.active, w.s.idle, w.s.productive), hidden: null },
          ),
      };
    },

    /** Org-wide weekly trend from the small team rollup (admins). */
    async orgTrend(user: SignedInUser, q: { from?: string | undefined; to?: string | undefined }): Promise<Trend> {
      requireRole(user, 'admin');
      const range = await resolveRange(analytics, user.orgId, q);
      // The audit is written as soon as the subjects are known, beside the weekly figures.
      const [{ minGroupSize: k }, weeks, org] = await Promise.all([
        visibilityRules(deps.consent, user.orgId),
        queries.orgWeeks(user.orgId, range.from, range.to),
        directory.findOrg(user.orgId),
        queries.peopleInRange(user.orgId, range.from, range.to).then((subjects) => viewed(user, 'report.org_trend.viewed', subjects, { from: range.from, to: range.to })),
      ]);
      return {
        scope: { kind: 'org', id: user.orgId, name: org?.name ?? '' },
        range: rangeOut(range),
        minGroupSize: k,
        weeks: weeks.map((w) =>
          w.people < k
            ? { week: w.week, people: null, figures: null, hidden: hidden('too_few_people') }
            : { week: w.week, people: w.people, figures: figures(w.activeMs, w.idleMs, w.productiveMs), hidden: null },
        ),
      };
    },

    /** Teams side by side with the org total; hidden teams cannot be recovered by subtraction. */
    async teamComparison(user: SignedInUser, q: { from?: string | undefined; to?: string | undefined }): Promise<TeamComparison> {
      requireRole(user, 'admin');
      const range = await resolveRange(analytics, user.orgId, q);
      const [{ minGroupSize: k }, teams, { totals, people }] = await Promise.all([
        visibilityRules(deps.consent, user.orgId),
        directory.listTeams(user.orgId),
        queries.teamTotals(user.orgId, range.from, range.to),
      ]);
      const sums = new Map(totals.map((t) => [t.teamId, t]));
      const everyone = new Set([...people.values()].flatMap((s) => [...s]));
      const orgSlice = { key: '__org__', people: everyone, value: null };
      const slices = teams.map((t) => ({ key: t.id, people: people.get(t.id) ?? new Set<string>(), value: t }));
      // The org total is itself a slice: comparable with each team, and the teams are its parts.
      const judged = judgeSlices([orgSlice, ...slices.filter((s) => s.people.size > 0)], k, { comparable: true, partsOfShownTotal: true });
      const verdict = new Map(judged.map((j) => [j.key, j.suppressed]));
      await viewed(user, 'report.team_comparison.viewed', everyone, { from: range.from, to: range.to });
      const orgVerdict = verdict.get('__org__') ?? null;
      const orgSums = totals.reduce((s, t) => ({ a: s.a + t.activeMs, i: s.i + t.idleMs, p: s.p + t.productiveMs }), { a: 0, i: 0, p: 0 });
      return {
        range: rangeOut(range),
        minGroupSize: k,
        org: orgVerdict ? { people: null, figures: null, hidden: hidden(orgVerdict) } : { people: everyone.size, figures: figures(orgSums.a, orgSums.i, orgSums.p), hidden: null },
        teams: slices.map((s) => {
          const why = s.people.size === 0 ? null : (verdict.get(s.key) ?? null);
          const t = sums.get(s.key);
          if (why) return { id: s.key, name: s.value.name, people: null, figures: null, hidden: hidden(why) };
          return { id: s.key, name: s.value.name, people: s.people.size, figures: figures(t?.activeMs ?? 0, t?.idleMs ?? 0, t?.productiveMs ?? 0), hidden: null };
        }),
      };
    },

    /** One person's detail: only when the policy allows it and that person's latest consent grants app usage. */
    async personDetail(user: SignedInUser, q: { userId: string; from?: string | undefined; to?: string | undefined }): Promise<PersonDetail> {
      await access.assertCanReadPersonalData(user, { userId: q.userId });
      const person = (await membersOf(user.orgId)).find((m) => m.id === q.userId);
      if (!person) throw new AppError('not_found', 'No such person');
      if (q.userId !== user.userId) {
        const [{ managersSeeIndividuals }, consents] = await Promise.all([visibilityRules(deps.consent, user.orgId), deps.consent.currentConsents(user.orgId)]);
        if (!managersSeeIndividuals) throw new AppError('forbidden', 'The policy does not let anyone see individual activity; team reports only');
        if (!grantedScopesOfPerson(consents, q.userId).has('app_usage')) {
          throw new AppError('forbidden', 'This person has not granted app usage in their latest consent decision');
        }
      }
      const range = await resolveRange(analytics, user.orgId, q);
      const [dayRows, appRows] = await Promise.all([
        queries.userDayTotals(user.orgId, [q.userId], range.from, range.to),
        queries.userAppTotals(user.orgId, [q.userId], range.from, range.to),
      ]);
      await viewed(user, 'report.person_detail.viewed', [q.userId], { from: range.from, to: range.to });
      const t = dayRows.reduce((s, r) => ({ a: s.a + r.activeMs, i: s.i + r.idleMs, p: s.p + r.productiveMs }), { a: 0, i: 0, p: 0 });
      return {
        person: { id: person.id, name: person.name, teamId: person.teamId },
        range: rangeOut(range),
        totals: figures(t.a, t.i, t.p),
        days: dayRows.sort((a, b) => a.day.localeCompare(b.day)).map((r) => ({ day: r.day, figures: figures(r.activeMs, r.idleMs, r.productiveMs) })),
        apps: appRows.sort((a, b) => b.activeMs - a.activeMs).map((r) => ({ app: r.app, category: r.category, activeMs: r.activeMs, idleMs: r.idleMs })),
      };
    },
  };
}
export type ReportingService = ReturnType<typeof createReportingService>;
