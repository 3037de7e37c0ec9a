import { z } from 'zod';
import { LegalBasis, Scope, TitleMode } from './scopes';
import { safeText } from './text';

export const MIN_GROUP_SIZE_FLOOR = 5;

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}

export const RedactionRule = z.strictObject({
  pattern: safeText(z.string().min(1).max(512)).refine(isValidRegex, { message: 'not a valid regular expression' }),
  replacement: safeText(z.string().max(128)).default('[redacted]'),
});
export type RedactionRule = z.infer<typeof RedactionRule>;

export const ScopeTerms = z.strictObject({
  scope: Scope,
  purpose: safeText(z.string().min(1).max(2000)),
  legalBasis: LegalBasis,
});
export type ScopeTerms = z.infer<typeof ScopeTerms>;

/** What an admin writes; the server adds version, hash and publication data. */
export const PolicyContent = z.strictObject({
  purpose: safeText(z.string().min(1).max(10_000)),
  scopes: z.array(ScopeTerms).min(1).max(3),
  titleMode: TitleMode,
  redactionRules: z.array(RedactionRule).max(100).default([]),
  idleThresholdSeconds: z.int().min(30).max(3600),
  retentionDays: z.int().min(1).max(3650),
  minGroupSize: z.int().min(MIN_GROUP_SIZE_FLOOR).max(1000),
  managersSeeIndividuals: z.boolean(),
  /** 0 = off; otherwise spans wait this long on the device before they may be sent. */
  reviewBeforeSendMinutes: z
    .int()
    .min(0)
    .max(7 * 24 * 60),
  /** How many days of unsent spans the device keeps before dropping the oldest. */
  localRetentionDays: z.int().min(1).max(365),
  controller: z.strictObject({ name: safeText(z.string().min(1).max(200)), contact: safeText(z.string().min(1).max(200)) }),
});
export type PolicyContent = z.infer<typeof PolicyContent>;

export const Policy = z.strictObject({
  orgId: z.uuid(),
  version: z.int().min(1),
  publishedAt: z.iso.datetime(),
  /** sha256 of the canonical JSON of `content`, hex; quoted in every receipt. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  url: z.string(),
  content: PolicyContent,
});
export type Policy = z.infer<typeof Policy>;

/** Where a device asks what changed since the version it decided on: GET ?from=N (device bearer). */
export const POLICY_DIFF_PATH = '/v1/policy/diff';

/**
 * What changed between two policy versions, field by field, in words a person can read:
 * served to the agent (shown before asking again) and to the admin page before publishing.
 */
export const PolicyChange = z.object({
  field: z.string(),
  summary: z.string(),
  before: z.json(),
  after: z.json(),
  /** True when this change asks more of the person than before. */
  widens: z.boolean(),
});
export type PolicyChange = z.infer<typeof PolicyChange>;

export const PolicyDiff = z.object({
  fromVersion: z.int().nullable(),
  toVersion: z.int(),
  widens: z.boolean(),
  widenedScopes: z.array(Scope),
  changes: z.array(PolicyChange),
});
export type PolicyDiff = z.infer<typeof PolicyDiff>;

/** Scopes newly added, or anything made wider (e.g. title mode towards `full`). */
export function widenedScopes(previous: PolicyContent | undefined, next: PolicyContent): Scope[] {
  const before = new Set(previous?.scopes.map((s) => s.scope) ?? []);
  const widened = next.scopes.map((s) => s.scope).filter((s) => !before.has(s));
  if (previous && before.has('window_titles') && !widened.includes('window_titles')) {
    const rank = { hashed: 0, redacted: 1, full: 2 } as const;
    if (rank[next.titleMode] > rank[previous.titleMode]) widened.push('window_titles');
  }
  return widened;
}

/**
 * True when the new version asks more of the person than the old one did: every change the
 * policy diff marks as asking more (a scope moved off consent, a redaction rule dropped, a
 * shorter review before send) counts, so the diff and the re-consent rule never disagree.
 */
export function policyWidens(previous: PolicyContent | undefined, next: PolicyContent): boolean {
  if (!previous) return true;
  const basisBefore = new Map(previous.scopes.map((s) => [s.scope, s.legalBasis]));
  const kept = new Set(next.redactionRules.map((r) => r.pattern));
  return (
    widenedScopes(previous, next).length > 0 ||
    next.scopes.some((s) => basisBefore.get(s.scope) === 'consent' && s.legalBasis !== 'consent') ||
    previous.redactionRules.some((r) => !kept.has(r.pattern)) ||
    next.reviewBeforeSendMinutes < previous.reviewBeforeSendMinutes ||
    next.retentionDays > previous.retentionDays ||
    next.minGroupSize < previous.minGroupSize ||
    (next.managersSeeIndividuals && !previous.managersSeeIndividuals)
  );
}
