import { daysBetween, dayRangeProblem, defaultDayRange, MAX_RANGE_DAYS } from '@icarus/shared';
import type { AuditService } from '../audit';
import type { AnalyticsService } from '../analytics';
import type { RollupQueries } from '../analytics';
import type { ConsentService } from '../consent';
import type { DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { EXPLANATIONS, type Suppression } from './threshold';

/** The access rule for personal data (the gateway's one policy), as reports call it. */
export interface PersonalDataAccess {
  assertCanReadPersonalData(user: SignedInUser, target: { userId: string } | { teamId: string }): Promise<void>;
}

export interface ReportDeps {
  queries: RollupQueries;
  analytics: AnalyticsService;
  directory: DirectoryService;
  consent: ConsentService;
  devices: DeviceService;
  audit: AuditService;
  access: PersonalDataAccess;
  now?: () => Date;
}

export interface ResolvedRange {
  from: string;
  to: string;
  timeZone: string;
  days: number;
  today: string;
}

/** What is wrong with a range, in words a person acts on (the page and the API say the same). */
export function rangeProblemText(from: string, to: string): { path: 'from'; problem: string; message: string } | undefined {
  const bad = dayRangeProblem(from, to);
  if (!bad) return undefined;
  if (from > to) {
    return {
      path: 'from',
      problem: bad.problem,
      message: `The range is reversed: it starts on ${from}, after its end on ${to}. Choose a start on or before the end.`,
    };
  }
  return {
    path: 'from',
    problem: bad.problem,
    message: `The range ${from} to ${to} is ${daysBetween(from, to)} days; a report covers at most ${MAX_RANGE_DAYS} days. Choose a shorter range.`,
  };
}

/** A report range in the org's calendar: open ends default to the shared range up to today. */
export async function resolveRange(
  analytics: AnalyticsService,
  orgId: string,
  q: { from?: string | undefined; to?: string | undefined },
): Promise<ResolvedRange> {
  const { today, timeZone } = await analytics.orgCalendar(orgId);
  const { from, to } = defaultDayRange(q, today);
  const bad = rangeProblemText(from, to);
  if (bad) throw new AppError('validation_failed', bad.message, [{ path: bad.path, problem: bad.problem }]);
  return { from, to, timeZone, days: daysBetween(from, to), today };
}

export const hidden = (reason: Suppression) => ({ reason, explanation: EXPLANATIONS[reason] });

export function figures(activeMs: number, idleMs: number, productiveMs: number) {
  return { activeMs, idleMs, productiveShare: activeMs > 0 ? Math.min(1, productiveMs / activeMs) : null };
}

/** The policy numbers reports obey; the floor of 5 holds even if a policy row said less. */
export async function visibilityRules(consent: ConsentService, orgId: string): Promise<{ minGroupSize: number; managersSeeIndividuals: boolean }> {
  const policy = await consent.currentPolicy(orgId).catch(() => undefined);
  return {
    minGroupSize: Math.max(5, policy?.content.minGroupSize ?? 5),
    managersSeeIndividuals: policy?.content.managersSeeIndividuals ?? false,
  };
}

export function requireRole(user: SignedInUser, ...roles: SignedInUser['role'][]) {
  if (!roles.includes(user.role)) throw new AppError('forbidden', `This report needs the role ${roles.join(' or ')}; you are ${user.role}`);
}
