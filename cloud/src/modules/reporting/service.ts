import { addDays, DEFAULT_WORKING_WEEK, weekOf } from '@icarus/shared';
import { grantsByPerson } from './consent-state';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { figures, requireRole, resolveRange, visibilityRules, type ReportDeps, type ResolvedRange } from './context';
import type { PersonDetail, TeamApps, TeamComparison, TeamList, TeamPeople, TeamSummary, Trend } from './schemas';
import { compareGroups, orgWeeks, summarize, teamWeeks } from './group-reports';
import { groupCategories, teamApps } from './breakdowns';
import { orgHighlights, teamHighlights } from './insights';

const MEMBER_CACHE_MS = 5_000;

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

  /**
   * A team the user may read, without its members: a team report reads the person-days
   * attributed to the team, never today's member list (at 10,000 people, reading the org's
   * directory cost as much as the report's own rollup reads each time its cache ran out).
   */
  async function teamOf(user: SignedInUser, teamId: string) {
    const [, teams] = await Promise.all([access.assertCanReadPersonalData(user, { teamId }), teamsOf(user.orgId)]);
    // A team created since the cached list was read: read the list again once.
    const team = teams.find((t) => t.id === teamId) ?? (await directory.listTeams(user.orgId)).find((t) => t.id === teamId);
    if (!team) throw new AppError('not_found', 'No such team');
    return { team };
  }

  function viewed(user: SignedInUser, action: string, subjects: Iterable<string>, details: Record<string, unknown>) {
    // Read with an API token: the creator is the actor, and the entry names the token.
    const via = user.apiTokenId === undefined ? {} : { apiTokenId: user.apiTokenId };
    return audit.record({
      orgId: user.orgId,
      actorType: 'user',
      actorId: user.userId,
      action,
      subjectUserIds: [...new Set(subjects)].sort(),
      details: { ...details, ...via },
    });
  }

  /**
   * What a team report reads before any activity, side by side: access to the team, the range
   * and the policy's minimum group size. Then the report reads the rollups.
   */
  async function teamReportFrame(user: SignedInUser, q: { teamId: string; from?: string | undefined; to?: string | undefined }) {
    const [{ team }, range, { minGroupSize: k }] = await Promise.all([
      teamOf(user, q.teamId),
      resolveRange(analytics, user.orgId, q),
      visibilityRules(deps.consent, user.orgId),
    ]);
    return { team, range, k };
  }

  /** The org's working week, read each time (not from a cache): a changed week shows on the next view. */
  async function workingWeekOf(orgId: string) {
    return (await deps.directory.findOrg(orgId))?.workingWeek ?? DEFAULT_WORKING_WEEK;
  }

  const rangeOut = (r: ResolvedRange) => ({ from: r.from, to: r.to, timeZone: r.timeZone, days: r.days, today: r.today });

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

    /**
     * A team's days, totals and breakdowns, and the same for the period of equal length just
     * before (for "what changed"): each a sum of its own passing (team, day) cells only.
     */
    async teamSummary(user: SignedInUser, q: { teamId: string; from?: string | undefined; to?: string | undefined }): Promise<TeamSummary> {
      const [{ team, range, k }, week] = await Promise.all([teamReportFrame(user, q), workingWeekOf(user.orgId)]);
      const before = { from: addDays(range.from, -range.days), to: addDays(range.from, -1) };
      // One read of both periods; the audit of whose data was read is written while the per-app
      // rows are still being read, and nothing is returned unless both succeed.
      const [{ days: personDays, focus: focusDays }, appRows] = await Promise.all([
        queries.groupPersonFocusDays(user.orgId, team.id, before.from, range.to, range.timeZone, week).then(async (read) => {
          await viewed(
            user,
            'report.team_summary.viewed',
            read.days.map((r) => r.userId),
            { teamId: team.id, from: range.from, to: range.to, previousFrom: before.from },
          );
          return read;
        }),
        queries.groupAppDays(user.orgId, team.id, before.from, range.to),
      ]);
      const inside = <T extends { day: string }>(rows: readonly T[], r: { from: string; to: string }) => rows.filter((x) => x.day >= r.from && x.day <= r.to);
      const now = summarize(inside(personDays, range), inside(appRows, range), range, k, inside(focusDays, range), week);
      const prev = summarize(inside(personDays, before), inside(appRows, before), before, k, inside(focusDays, before), week);
      const previous = {
        range: before,
        status: prev.status,
        hidden: prev.hidden,
        people: prev.people,
        totals: prev.totals,
        perPerson: prev.perPerson,
        meetings: prev.meetings,
        focus: prev.focus,
        afterHours: prev.afterHours,
      };
      return { team, range: rangeOut(range), minGroupSize: k, ...now, previous, highlights: teamHighlights(now, previous, k, range.today) };
    },

    /** A team's apps (of one category, or all) with each app's shown rows per day: the drill-down under a team. */
    async teamApps(
      user: SignedInUser,
      q: { teamId: string; category?: string | undefined; from?: string | undefined; to?: string | undefined },
    ): Promise<TeamApps> {
      const { team, range, k } = await teamReportFrame(user, q);
      const [personDays, appRows] = await Promise.all([
        queries.groupPersonDays(user.orgId, team.id, range.from, range.to).then(async (rows) => {
          await viewed(
            user,
            'report.team_apps.viewed',
            rows.map((r) => r.userId),
            { teamId: team.id, from: range.from, to: range.to, category: q.category ?? null },
          );
          return rows;
        }),
        queries.groupAppDays(user.orgId, team.id, range.from, range.to),
      ]);
      const category = q.category ?? null;
      return { team, range: rangeOut(range), minGroupSize: k, category, ...teamApps(personDays, appRows, range, k, category) };
    },

    /**
     * The members of a team whose detail the reader may open: everyone when the reader is the
     * person, otherwise only where the policy lets managers see individuals and the person's
     * latest consent grants app usage. Names only, no figures: figures of some members beside
     * the team's total would give the rest's time by subtraction.
     */
    async teamPeople(user: SignedInUser, q: { teamId: string }): Promise<TeamPeople> {
      const { team } = await teamOf(user, q.teamId);
      const [{ managersSeeIndividuals, minGroupSize: k }, consents, people] = await Promise.all([
        visibilityRules(deps.consent, user.orgId),
        deps.consent.latestDecisions(user.orgId),
        membersOf(user.orgId),
      ]);
      const members = people.filter((m) => m.teamId === team.id).sort((a, b) => a.name.localeCompare(b.name));
      if (!managersSeeIndividuals) {
        return {
          team,
          individualViews: false,
          explanation: `The policy does not let managers see individuals: this team is reported only as a group, on days with at least ${k} people active.`,
          people: [],
          notListed: members.length,
        };
      }
      const grants = grantsByPerson(consents);
      const listed = members.filter((m) => grants(m.id).has('app_usage'));
      await viewed(
        user,
        'report.team_people.viewed',
        listed.map((m) => m.id),
        { teamId: team.id },
      );
      const notListed = members.length - listed.length;
      return {
        team,
        individualViews: true,
        explanation:
          notListed === 0
            ? 'The policy lets managers see individuals, and everyone listed has granted app usage.'
            : `The policy lets managers see individuals who granted app usage; ${notListed} ${notListed === 1 ? 'person has' : 'people have'} not, and ${notListed === 1 ? 'is' : 'are'} not listed.`,
        people: listed.map((m) => ({ id: m.id, name: m.name })),
        notListed,
      };
    },

    /** Weekly trend of one team: each week the sum of its passing days, members as they were each day. */
    async teamTrend(user: SignedInUser, q: { teamId: string; from?: string | undefined; to?: string | undefined }): Promise<Trend> {
      const { team, range, k } = await teamReportFrame(user, q);
      const rows = await queries.groupPersonDays(user.orgId, team.id, range.from, range.to);
      await viewed(
        user,
        'report.team_trend.viewed',
        rows.map((r) => r.userId),
        { teamId: team.id, from: range.from, to: range.to },
      );
      return { scope: { kind: 'team', id: team.id, name: team.name }, range: rangeOut(range), minGroupSize: k, weeks: teamWeeks(team.id, rows, k) };
    },

    /** Org-wide weekly trend (admins): every group's passing cells, people without a team included. */
    async orgTrend(user: SignedInUser, q: { from?: string | undefined; to?: string | undefined }): Promise<Trend> {
      requireRole(user, 'admin');
      const [range, { minGroupSize: k }] = await Promise.all([resolveRange(analytics, user.orgId, q), visibilityRules(deps.consent, user.orgId)]);
      // The audit is written as soon as the subjects are known, beside the cells.
      const [cells, org] = await Promise.all([
        queries.orgCells(user.orgId, range.from, range.to, k),
        directory.findOrg(user.orgId),
        queries
          .peopleInRange(user.orgId, range.from, range.to)
          .then((subjects) => viewed(user, 'report.org_trend.viewed', subjects, { from: range.from, to: range.to })),
      ]);
      return { scope: { kind: 'org', id: user.orgId, name: org?.name ?? '' }, range: rangeOut(range), minGroupSize: k, weeks: orgWeeks(cells, k) };
    },

    /** Teams and people without a team side by side with the org total, all sums of passing cells. */
    async teamComparison(user: SignedInUser, q: { from?: string | undefined; to?: string | undefined }): Promise<TeamComparison> {
      requireRole(user, 'admin');
      const [range, { minGroupSize: k }] = await Promise.all([resolveRange(analytics, user.orgId, q), visibilityRules(deps.consent, user.orgId)]);
      const [teams, cells, appRows] = await Promise.all([
        directory.listTeams(user.orgId),
        queries.orgCells(user.orgId, range.from, range.to, k),
        queries.orgAppDays(user.orgId, range.from, range.to),
        queries
          .peopleInRange(user.orgId, range.from, range.to)
          .then((subjects) => viewed(user, 'report.team_comparison.viewed', subjects, { from: range.from, to: range.to })),
      ]);
      const compared = compareGroups(cells, teams, k, groupCategories(cells.cells, appRows, k));
      return { range: rangeOut(range), minGroupSize: k, ...compared, highlights: orgHighlights(compared.teams) };
    },

    /** One person's detail: only when the policy allows it and that person's latest consent grants app usage. */
    async personDetail(user: SignedInUser, q: { userId: string; from?: string | undefined; to?: string | undefined }): Promise<PersonDetail> {
      await access.assertCanReadPersonalData(user, { userId: q.userId });
      const person = (await membersOf(user.orgId)).find((m) => m.id === q.userId);
      if (!person) throw new AppError('not_found', 'No such person');
      let shown: Set<string> | undefined;
      let k = 0;
      if (q.userId !== user.userId) {
        const [{ managersSeeIndividuals, minGroupSize }, consents] = await Promise.all([
          visibilityRules(deps.consent, user.orgId),
          deps.consent.latestDecisions(user.orgId),
        ]);
        if (!managersSeeIndividuals) throw new AppError('forbidden', 'The policy does not let anyone see individual activity; team reports only');
        const grants = grantsByPerson(consents);
        if (!grants(q.userId).has('app_usage')) {
          throw new AppError('forbidden', 'This person has not granted app usage in their latest consent decision');
        }
        shown = new Set((await membersOf(user.orgId)).filter((m) => grants(m.id).has('app_usage')).map((m) => m.id));
        k = minGroupSize;
      }
      const range = await resolveRange(analytics, user.orgId, q);
      const [dayRows, appDays, cells] = await Promise.all([
        queries.userDayTotals(user.orgId, [q.userId], range.from, range.to),
        queries.exportRows(user.orgId, [q.userId], range.from, range.to),
        shown ? queries.withheldPersonDays(user.orgId, [q.userId], [...shown], range.from, range.to, k) : [],
      ]);
      // A day whose team cell holds 1 to k-1 people not shown one by one keeps this person's
      // figures back: the team total minus the individual figures would be those few people's.
      const withheld = new Set(cells.map((c) => `${c.userId}|${c.day}`));
      const keep = (day: string) => !withheld.has(`${q.userId}|${day}`);
      await viewed(user, 'report.person_detail.viewed', [q.userId], { from: range.from, to: range.to });
      const days = dayRows.filter((r) => keep(r.day));
      const t = days.reduce((sum, r) => ({ a: sum.a + r.activeMs, i: sum.i + r.idleMs, p: sum.p + r.productiveMs }), { a: 0, i: 0, p: 0 });
      const apps = new Map<string, { app: string; category: string; activeMs: number; idleMs: number }>();
      for await (const page of appDays) {
        for (const r of page) {
          if (!keep(r.day)) continue;
          const key = `${r.app}|${r.category}`;
          const a = apps.get(key) ?? { app: r.app, category: r.category, activeMs: 0, idleMs: 0 };
          a.activeMs += r.activeMs;
          a.idleMs += r.idleMs;
          apps.set(key, a);
        }
      }
      return {
        person: { id: person.id, name: person.name, teamId: person.teamId },
        range: rangeOut(range),
        totals: figures(t.a, t.i, t.p),
        days: days.sort((a, b) => a.day.localeCompare(b.day)).map((r) => ({ day: r.day, figures: figures(r.activeMs, r.idleMs, r.productiveMs) })),
        withheldDays: [...withheld].map((key) => key.slice(key.indexOf('|') + 1)).sort(),
        apps: [...apps.values()].sort((a, b) => b.activeMs - a.activeMs),
      };
    },
  };
}
export type ReportingService = ReturnType<typeof createReportingService>;
