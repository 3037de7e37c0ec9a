import type { Scope } from '@icarus/shared';

interface ConsentLike {
  userId: string | null;
  granted: Scope[];
  effectiveAt: Date;
  decision: 'granted' | 'declined' | 'withdrawn';
}

/**
 * The scopes a person's most recent decision (on any of their devices) left granted: a
 * withdrawal on one laptop counts even if an older grant stands on another.
 */
export function grantedScopesOfPerson(consents: readonly ConsentLike[], userId: string): ReadonlySet<Scope> {
  let latest: ConsentLike | undefined;
  for (const c of consents) {
    if (c.userId !== userId) continue;
    if (!latest || c.effectiveAt > latest.effectiveAt) latest = c;
  }
  return new Set(latest?.granted ?? []);
}
