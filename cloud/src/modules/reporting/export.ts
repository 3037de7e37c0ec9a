import { csvField, streamCsv } from '../../platform/http/csv';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { grantsByPerson } from './consent-state';
import { requireRole, resolveRange, visibilityRules, type ReportDeps } from './context';
import type { ReportingService } from './service';
import type { ExportRow, ExportValues } from '../analytics';
import { byDay, judgeDayRows } from './cells';

/** Rows per encoded chunk of a person-level export. */
const CHUNK_ROWS = 1_000;
const HEADER_TEAM = 'day,app,category,productivity,people,active_ms,idle_ms,spans\r\n';
const HEADER_PERSON = 'day,person,email,app,category,productivity,active_ms,idle_ms,spans\r\n';

/**
 * A team's range as CSV, streamed in reads of bounded size so memory stays flat. Team level rows
 * with fewer than k people are left out; person level only for people the policy and their
 * own consent allow. Without a team: the whole org, person level only and for admins, since
 * org-wide sums beside team sums would let one team be worked out by subtraction. Audited
 * before the first byte is sent; the first page is read before the status, so a failure there
 * is an error response, and one later aborts the transfer instead of ending it short.
 */
export function createCsvExport(deps: ReportDeps, reports: ReportingService) {
  return async function exportCsv(
    user: SignedInUser,
    q: { teamId?: string | undefined; from?: string | undefined; to?: string | undefined; level: 'team' | 'person' },
    /** Told of a failure after the first byte, when the transfer can only be aborted. */
    onError: (error: unknown) => void = () => {},
  ): Promise<{ filename: string; body: ReadableStream<Uint8Array> }> {
    if (q.teamId === undefined) {
      requireRole(user, 'admin');
      if (q.level !== 'person') {
        throw new AppError('validation_failed', 'Invalid query: an export without a team is per person; team-level sums need a team', [
          { path: 'teamId', problem: 'required for level=team' },
        ]);
      }
    }
    // Nothing here reads activity: access, range, policy, directory and consents side by side.
    const [scope, range, { minGroupSize: k, managersSeeIndividuals }, members, consents] = await Promise.all([
      q.teamId === undefined ? undefined : reports.teamOf(user, q.teamId),
      resolveRange(deps.analytics, user.orgId, q),
      visibilityRules(deps.consent, user.orgId),
      reports.membersOf(user.orgId),
      q.level === 'person' ? deps.consent.latestDecisions(user.orgId) : undefined,
    ]);
    let people = (scope ? members.filter((m) => m.teamId === scope.team.id) : members).map((m) => m.id);
    if (q.level === 'person') {
      if (!managersSeeIndividuals) throw new AppError('forbidden', 'The policy does not let anyone see individual activity; export at team level');
      const grants = grantsByPerson(consents ?? []);
      people = people.filter((id) => grants(id).has('app_usage'));
    }
    const directory = new Map(members.map((m) => [m.id, m]));
    // Team level reads the person-days attributed to the team, whoever is in it today.
    const subjects =
      q.level === 'team' && scope
        ? await deps.queries.groupPersonDays(user.orgId, scope.team.id, range.from, range.to).then((r) => r.map((d) => d.userId))
        : people;
    await reports.viewed(user, 'report.csv.exported', subjects, { teamId: scope?.team.id ?? null, from: range.from, to: range.to, level: q.level });
    const filename = `${(scope?.team.name ?? 'organisation').replace(/[^\w.-]+/g, '-')}-${range.from}-to-${range.to}-${q.level}.csv`;
    if (q.level === 'person' || !scope) {
      const withheld = await deps.queries.withheldPersonDays(user.orgId, people, people, range.from, range.to, k);
      const body = await streamCsv(HEADER_PERSON, deps.queries.exportValues(user.orgId, people, range.from, range.to), personCsv(directory, withheld), onError);
      return { filename, body };
    }
    // Team level: the team's person-days as they were attributed each day (not today's members).
    // Read and rendered before the answer's status: a failing query or row is an error response;
    // later failures abort the transfer (logged by the caller's onError).
    const body = await streamCsv(
      HEADER_TEAM,
      deps.queries.groupExportRows(user.orgId, scope.team.id, range.from, range.to, people.length),
      (page) => [...byDay(page).values()].map((dayRows) => teamDayCsv(dayRows, k)),
      onError,
    );
    return { filename, body };
  };
}

/**
 * The person-level rows of each read as CSV, in chunks of CHUNK_ROWS rows: short-lived strings
 * of ~100 kB instead of one of megabytes per read, which kept the garbage collector busy for a
 * third of the time. Rows come as the driver's arrays of text and are written straight out: a
 * few dozen apps and categories and each person's name and email are quoted once, not once per
 * row. Person-days whose team cell holds 1 to k-1 people not in the export are left out (the
 * same rule as person detail): the team total minus them would be those few people.
 */
function personCsv(
  directory: ReadonlyMap<string, { name: string; email: string }>,
  withheld: readonly { userId: string; day: string }[],
): (page: ExportValues[]) => string[] {
  const withheldDays = new Map<string, Set<string>>();
  for (const { userId, day } of withheld) {
    const days = withheldDays.get(userId) ?? new Set<string>();
    days.add(day);
    withheldDays.set(userId, days);
  }
  const quotedCache = new Map<string, string>();
  const quoted = (value: string) => {
    let hit = quotedCache.get(value);
    if (hit === undefined) {
      hit = csvField(value);
      if (quotedCache.size < 10_000) quotedCache.set(value, hit);
    }
    return hit;
  };
  const personCache = new Map<string, string>();
  const person = (userId: string) => {
    let hit = personCache.get(userId);
    if (hit === undefined) {
      const who = directory.get(userId);
      hit = `${csvField(who?.name ?? '')},${csvField(who?.email ?? '')}`;
      personCache.set(userId, hit);
    }
    return hit;
  };
  return (page) => {
    const chunks: string[] = [];
    let text = '';
    let n = 0;
    // Rows come a person at a time: their name and withheld days are looked up once per person.
    let current = '';
    let who = '';
    let skip: Set<string> | undefined;
    for (const [day, userId, app, category, productivity, activeMs, idleMs, spans] of page) {
      if (userId !== current) {
        current = userId;
        who = person(userId);
        skip = withheldDays.get(userId);
      }
      if (skip?.has(day)) continue;
      text += `${day},${who},${quoted(app)},${quoted(category)},${productivity},${activeMs},${idleMs},${spans}\r\n`;
      if (++n === CHUNK_ROWS) {
        chunks.push(text);
        text = '';
        n = 0;
      }
    }
    chunks.push(text);
    return chunks;
  };
}

/**
 * One team-day as CSV rows, judged as the team summary judges them (`judgeDayRows`): nothing of
 * a day with fewer than k people active; within it, rows of fewer than k people pooled into
 * "(other apps)", which itself has k people or more, so the day's sum reveals no small group.
 */
function teamDayCsv(rows: ExportRow[], k: number): string {
  const { shown, pool } = judgeDayRows(rows, k);
  let text = '';
  for (const r of shown) {
    text += `${r.day},${csvField(r.app)},${csvField(r.category)},${r.productivity},${r.peopleIds.length},${r.activeMs},${r.idleMs},${r.spans}\r\n`;
  }
  const day = rows[0]?.day;
  if (day && pool.rows > 0 && pool.people.size >= k) text += `${day},(other apps),,,${pool.people.size},${pool.active},${pool.idle},${pool.spans}\r\n`;
  return text;
}
