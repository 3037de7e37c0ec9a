import { widenedScopes, type ConsentDecisionKind, type Policy, type Scope } from '@icarus/shared';
import type { ConsentState } from '../store/state';

export interface GateInput {
  consent: ConsentState | undefined;
  policy: Policy | undefined;
  pauseUntilMs: number | undefined;
  /** Set once the organisation revoked the device (see Revocation). */
  revoked?: { atMs: number } | undefined;
  now: number;
}

/**
 * The scopes the agent may capture right now: nothing before a decision, nothing while paused,
 * nothing before the decision took effect, and of the granted scopes only those the current
 * policy still has and no newer policy version has widened.
 */
export function effectiveScopes({ consent, policy, pauseUntilMs, revoked, now }: GateInput): Set<Scope> {
  // Spans of a revoked device could never leave it: recording them would only pile up data.
  if (!consent || revoked) return new Set();
  if (pauseUntilMs !== undefined && now < pauseUntilMs) return new Set();
  if (now < consent.effectiveFromMs) return new Set();
  const inPolicy = new Set((policy?.content ?? consent.policyContent).scopes.map((s) => s.scope));
  return new Set(consent.granted.filter((s) => inPolicy.has(s) && !consent.pending.includes(s)));
}

/** One line for status displays. */
export function describeGate(input: GateInput): string {
  const { consent, policy, pauseUntilMs, revoked, now } = input;
  if (revoked)
    return `not capturing: this device was revoked by your organisation on ${new Date(revoked.atMs).toISOString()}; nothing is sent, and what is on this device stays here`;
  if (!consent) return 'not capturing: no consent decision yet (run `icarus-agent consent`)';
  if (pauseUntilMs !== undefined && now < pauseUntilMs) return `paused until ${new Date(pauseUntilMs).toISOString()}`;
  const scopes = [...effectiveScopes(input)];
  const base = scopes.length > 0 ? `capturing ${scopes.join(', ')}` : 'not capturing: nothing granted';
  return consent.pending.length > 0 ? `${base}; policy v${policy?.version ?? '?'} needs a decision on ${consent.pending.join(', ')}` : base;
}

/**
 * A newer policy arrived: granted scopes it widens (and any the server names) stop until the
 * person decides again. Narrowing needs nothing: effectiveScopes already intersects.
 */
export function withNewPolicy(consent: ConsentState | undefined, policy: Policy, serverSays: readonly Scope[] = []): ConsentState | undefined {
  if (!consent || policy.version === consent.policyVersion) return consent;
  const widened = new Set([...widenedScopes(consent.policyContent, policy.content), ...serverSays]);
  const pending = [...new Set([...consent.pending, ...consent.granted.filter((s) => widened.has(s))])];
  return { ...consent, pending };
}

/** The local effect of a decision, mirroring the server's semantics; returns what was withdrawn. */
export function withDecision(
  previous: ConsentState | undefined,
  kind: ConsentDecisionKind,
  scopes: readonly Scope[],
  policy: Policy,
  effectiveFromMs: number,
): { next: ConsentState; withdrawn: Scope[] } {
  const before = previous?.granted ?? [];
  let granted: Scope[];
  if (kind === 'granted') granted = [...new Set(scopes)];
  else if (kind === 'declined') granted = [];
  else granted = scopes.length === 0 ? [] : before.filter((s) => !scopes.includes(s));
  const withdrawn = before.filter((s) => !granted.includes(s));
  // A withdrawal leaves the earlier decision's policy and start time as they were.
  const base = kind === 'withdrawn' && previous ? previous : undefined;
  return {
    next: {
      policyVersion: base?.policyVersion ?? policy.version,
      policyContent: base?.policyContent ?? policy.content,
      granted,
      effectiveFromMs: base?.effectiveFromMs ?? effectiveFromMs,
      pending: kind === 'withdrawn' && previous ? previous.pending.filter((s) => granted.includes(s)) : [],
    },
    withdrawn,
  };
}
