import type { Scope } from '@icarus/shared';

/** A person's decision in force, as `ConsentService.latestDecisions` gives it: one per person. */
interface DecisionInForce {
  userId: string | null;
  granted: Scope[];
}

const NONE: ReadonlySet<Scope> = new Set();

/**
 * The scopes each person's decision in force left granted, looked up per person: the decision
 * is the latest of all their devices' (`latestDecisions` picks it), so a withdrawal on one
 * laptop counts even if an older grant stands on another. Someone with no decision: none.
 */
export function grantsByPerson(decisions: readonly DecisionInForce[]): (userId: string) => ReadonlySet<Scope> {
  const granted = new Map<string, ReadonlySet<Scope>>();
  for (const d of decisions) if (d.userId !== null) granted.set(d.userId, new Set(d.granted));
  return (userId) => granted.get(userId) ?? NONE;
}
