import type { TeamComparison, TeamSummary } from './schemas';

/**
 * Highlights in plain words, written only from figures a report already publishes (sums of
 * passing cells and their ratios): they add words, never a number the figures do not hold.
 */
type Period = Pick<TeamSummary, 'status' | 'people' | 'totals' | 'perPerson' | 'meetings' | 'focus' | 'afterHours'>;

const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;
const percent = (x: number) => `${Math.round(x * 100)} %`;

function change(now: number, before: number, unit: (x: number) => string, points = false): string {
  if (points) {
    const d = Math.round((now - before) * 100);
    return d === 0 ? `unchanged from ${unit(before)}` : `${d > 0 ? 'up' : 'down'} ${Math.abs(d)} points from ${unit(before)}`;
  }
  if (before === 0) return `none in the previous period`;
  const rel = Math.round(((now - before) / before) * 100);
  return rel === 0 ? `unchanged from ${unit(before)}` : `${rel > 0 ? 'up' : 'down'} ${Math.abs(rel)} % from ${unit(before)}`;
}

export function teamHighlights(
  now: Period & Pick<TeamSummary, 'categories' | 'days'>,
  previous: (Period & { range: { from: string; to: string } }) | null,
  k: number,
  today: string,
): string[] {
  const out: string[] = [];
  if (now.status !== 'shown' || !now.totals || !now.perPerson) return out;
  const before = previous?.status === 'shown' ? previous : null;
  const pp = now.perPerson.activeMsPerPersonDay;
  out.push(
    before?.perPerson
      ? `Active time per person per day: ${hours(pp)}, ${change(pp, before.perPerson.activeMsPerPersonDay, hours)} in the previous period.`
      : `Active time per person per day: ${hours(pp)}.`,
  );
  const share = now.totals.productiveShare;
  const shareBefore = before?.totals?.productiveShare ?? null;
  if (share !== null) {
    out.push(
      shareBefore !== null
        ? `Productive share: ${percent(share)}, ${change(share, shareBefore, percent, true)}.`
        : `Productive share: ${percent(share)} of active time.`,
    );
  }
  if (now.meetings && now.meetings.activeMs > 0) {
    const m = now.meetings.share;
    out.push(
      before?.meetings
        ? `Meetings: ${percent(m)} of active time, ${change(m, before.meetings.share, percent, true)}.`
        : `Meetings: ${percent(m)} of active time.`,
    );
  }
  if (now.focus) {
    const f = now.focus;
    out.push(
      before?.focus
        ? `Focus time (stretches of 30 minutes or more in productive apps): ${hours(f.msPerPersonDay)} per person per day, ${percent(f.share)} of active time, ${change(f.share, before.focus.share, percent, true)}.`
        : `Focus time (stretches of 30 minutes or more in productive apps): ${hours(f.msPerPersonDay)} per person per day, ${percent(f.share)} of active time.`,
    );
  }
  if (now.afterHours) {
    const a = now.afterHours;
    out.push(
      before?.afterHours
        ? `After hours (outside ${a.outside}): ${percent(a.share)} of active time, ${change(a.share, before.afterHours.share, percent, true)}.`
        : `After hours (outside ${a.outside}): ${percent(a.share)} of active time.`,
    );
  }
  const [first, second] = now.categories;
  if (first) {
    out.push(
      `Most time went to ${first.category} (${percent(first.share)}, counted ${first.productivity})` +
        (second ? `, then ${second.category} (${percent(second.share)}, ${second.productivity}).` : '.'),
    );
  }
  const hiddenDays = now.days.filter((d) => d.state === 'hidden').length;
  if (hiddenDays > 0) out.push(`${hiddenDays} day${hiddenDays === 1 ? ' is' : 's are'} hidden (fewer than ${k} people active) and in no figure.`);
  const last = now.days.at(-1)?.day;
  if (last !== undefined && last >= today) out.push(`The period runs to ${last}, so it is still in progress: today (${today}) is partial.`);
  if (previous && !before) {
    out.push(
      previous.status === 'hidden'
        ? `No comparison: the previous period (${previous.range.from} to ${previous.range.to}) had too few people active.`
        : `No comparison: nothing was recorded in the previous period (${previous.range.from} to ${previous.range.to}).`,
    );
  }
  return out;
}

/** Across teams: the spread of productive share, and the categories behind the lowest and highest. */
export function orgHighlights(teams: TeamComparison['teams']): string[] {
  const shown = teams.filter((t) => t.figures && t.figures.productiveShare !== null);
  if (shown.length < 2) return [];
  const share = (t: (typeof shown)[number]) => t.figures?.productiveShare ?? 0;
  const sorted = [...shown].sort((a, b) => share(a) - share(b) || a.name.localeCompare(b.name));
  const low = sorted[0];
  const high = sorted.at(-1);
  if (!low || !high) return [];
  const drivers = (t: (typeof shown)[number]) =>
    t.categories
      .slice(0, 3)
      .map((c) => `${c.category} ${percent(c.share)} (${c.productivity})`)
      .join(', ');
  const out = [`Productive share ranges from ${percent(share(low))} (${low.name}) to ${percent(share(high))} (${high.name}) across ${shown.length} teams.`];
  if (low.categories.length > 0) out.push(`${low.name} spends most time in ${drivers(low)}.`);
  if (high.categories.length > 0) out.push(`${high.name} spends most time in ${drivers(high)}.`);
  const neutralHeavy = shown.filter((t) => t.categories.filter((c) => c.productivity === 'neutral').reduce((n, c) => n + c.share, 0) >= 0.5);
  if (neutralHeavy.length > 0) {
    const names = neutralHeavy.slice(0, 5).map((t) => t.name);
    out.push(
      `${neutralHeavy.length} team${neutralHeavy.length === 1 ? ' spends' : 's spend'} half their time or more in categories counted neutral (${names.join(', ')}${neutralHeavy.length > 5 ? ', …' : ''}): if that is their work, the category rules should count it productive.`,
    );
  }
  return out;
}
