import { ALL_SCOPES, canonicalJson, policyWidens, PolicyChange, PolicyDiff, widenedScopes, type PolicyContent } from '@icarus/shared';
import { z } from 'zod';

// The wire schema lives in @icarus/shared (the agent reads it too); re-exported for this module's users.
export { PolicyChange, PolicyDiff };

const TITLE_RANK = { hashed: 0, redacted: 1, full: 2 } as const;
type Json = z.infer<ReturnType<typeof z.json>>;

export function diffPolicies(from: { version: number; content: PolicyContent } | undefined, to: { version: number; content: PolicyContent }): PolicyDiff {
  const a = from?.content;
  const b = to.content;
  const changes: PolicyChange[] = [];
  const add = (field: string, summary: string, before: Json, after: Json, widens: boolean) => changes.push({ field, summary, before, after, widens });

  if (!a || a.purpose !== b.purpose) add('purpose', 'The purpose text changed', a?.purpose ?? null, b.purpose, false);
  for (const scope of ALL_SCOPES) {
    const was = a?.scopes.find((s) => s.scope === scope);
    const now = b.scopes.find((s) => s.scope === scope);
    const field = `scopes.${scope}`;
    if (!was && now) add(field, `New scope "${scope}" is asked for (${now.legalBasis.replace('_', ' ')})`, null, now, true);
    else if (was && !now) add(field, `Scope "${scope}" is no longer recorded`, was, null, false);
    else if (was && now && canonicalJson(was) !== canonicalJson(now)) {
      const basisLoosened = was.legalBasis === 'consent' && now.legalBasis !== 'consent';
      const what = was.legalBasis !== now.legalBasis ? `legal basis ${was.legalBasis} -> ${now.legalBasis}` : 'purpose text';
      add(field, `Scope "${scope}": ${what} changed`, was, now, basisLoosened);
    }
  }
  const number = (field: keyof PolicyContent & string, label: string, widensWhen: (x: number, y: number) => boolean) => {
    const x = a?.[field];
    const y = b[field];
    if (typeof y === 'number' && x !== y)
      add(field, `${label}: ${typeof x === 'number' ? x : 'none'} -> ${y}`, typeof x === 'number' ? x : null, y, typeof x === 'number' && widensWhen(x, y));
  };
  if (!a || a.titleMode !== b.titleMode) {
    add(
      'titleMode',
      `Window titles are sent ${b.titleMode}${a ? ` (was ${a.titleMode})` : ''}`,
      a?.titleMode ?? null,
      b.titleMode,
      !!a && TITLE_RANK[b.titleMode] > TITLE_RANK[a.titleMode],
    );
  }
  if (!a || canonicalJson(a.redactionRules) !== canonicalJson(b.redactionRules)) {
    const kept = new Set(b.redactionRules.map((r) => r.pattern));
    const dropped = (a?.redactionRules ?? []).filter((r) => !kept.has(r.pattern)).length;
    add(
      'redactionRules',
      `Redaction rules changed (${b.redactionRules.length} rules${dropped ? `, ${dropped} removed` : ''})`,
      a?.redactionRules ?? null,
      b.redactionRules,
      dropped > 0,
    );
  }
  number('retentionDays', 'Server retention in days', (x, y) => y > x);
  number('minGroupSize', 'Smallest group shown in reports', (x, y) => y < x);
  number('idleThresholdSeconds', 'Idle after seconds without input', () => false);
  number('reviewBeforeSendMinutes', 'Review before send, minutes', (x, y) => y < x);
  number('localRetentionDays', 'Days unsent data is kept on the device', () => false);
  if (!a || a.managersSeeIndividuals !== b.managersSeeIndividuals) {
    const summary = b.managersSeeIndividuals ? 'Managers may now see individual data' : 'Managers see team totals only';
    add('managersSeeIndividuals', summary, a?.managersSeeIndividuals ?? null, b.managersSeeIndividuals, !!a && b.managersSeeIndividuals);
  }
  if (!a || canonicalJson(a.controller) !== canonicalJson(b.controller)) {
    add('controller', `Controller: ${b.controller.name} (${b.controller.contact})`, a?.controller ?? null, b.controller, false);
  }
  return {
    fromVersion: from?.version ?? null,
    toVersion: to.version,
    widens: policyWidens(a, b),
    widenedScopes: widenedScopes(a, b),
    changes,
  };
}
