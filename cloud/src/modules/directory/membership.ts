import type { Membership } from './membership-store';

/**
 * The team a person was in on a day, from their membership history; `fallback` (the person's
 * current team) for people recorded before history was kept and never moved since.
 */
export function teamOnDay(history: readonly Membership[]): (userId: string, day: string, fallback: string | null) => string | null {
  const byUser = new Map<string, Membership[]>();
  for (const m of history) {
    const list = byUser.get(m.userId) ?? [];
    list.push(m);
    byUser.set(m.userId, list);
  }
  return (userId, day, fallback) => {
    const periods = byUser.get(userId);
    if (!periods) return fallback;
    for (const p of periods) {
      if ((p.validFrom === null || p.validFrom <= day) && (p.validTo === null || day < p.validTo)) return p.teamId;
    }
    // Before the first recorded period (a history that starts on a known day): the earliest team.
    return periods[0]?.teamId ?? fallback;
  };
}
