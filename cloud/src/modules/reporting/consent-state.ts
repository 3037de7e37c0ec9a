import type { Scope } from '@icarus/shared';

interface ConsentLike {
  userId: string | null;
  granted: Scope[];
  effectiveAt: Date;
  decision: 'granted' | 'declined' | 'withdrawn';
}

/**
 * The scopes each person's most recent decision (on any of their devices) left granted: a
 * withdrawal on one laptop counts even if an older grant stands on another. Built once from the
 * decisions in force (`ConsentService.latestDecisions`: a row per person), then a lookup per
 * person, where a scan of every device's decisions per person grew with people × devices.
 */
export function grantsByPerson(decisions: readonly ConsentLike[]): (userId: string) => ReadonlySet<Scope> {
  const latest = new Map<string, ConsentLike>();
  for (const d of decisions) {
    if (d.userId === null) continue;
    const seen = latest.get(d.userId);
    if (!seen || d.effectiveAt > seen.effectiveAt) latest.set(d.userId, d);
  }
  const none: ReadonlySet<Scope> = new Set();
  const sets = new Map<string, ReadonlySet<Scope>>();
  return (userId) => {
    let set = sets.get(userId);
    if (set === undefined) {
      set = new Set(latest.get(userId)?.granted ?? []);
      sets.set(userId, set);
    }
    return set.size === 0 ? none : set;
  };
}
