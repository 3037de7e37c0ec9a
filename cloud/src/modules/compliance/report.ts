import { addDays, checkDayRange, DayRangeFields, dayRangeProblem, defaultDayRange, type Scope } from '@icarus/shared';
import { z } from 'zod';
import type { ConsentService, CoverageCount } from '../consent';
import type { DirectoryService } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import type { ComplianceReports } from './coverage';
import type { AuditService, Checkpoint, RecordedFullVerification, SinceCheckpointVerification } from '../audit';

export const PeriodQuery = z.strictObject(DayRangeFields).superRefine(checkDayRange);
export type PeriodQuery = z.infer<typeof PeriodQuery>;

/** A group's coverage counts with the team's name. */
export type CoverageRow = CoverageCount & { teamName: string };

export interface ComplianceReport {
  period: { from: string; to: string };
  generatedAt: string;
  currentPolicyVersion: number | null;
  coverage: CoverageRow[];
  withdrawals: { userId: string | null; name: string; deviceId: string; at: string; remaining: Scope[] }[];
  erasures: { at: string; action: string; subjectUserIds: string[]; actorId: string }[];
  personalDataAccess: { action: string; events: number; actors: number; people: number }[];
  /**
   * The audit chain without walking it all on every view: `sinceCheckpoint` is walked now, from
   * the newest valid signed checkpoint to the head (before this report signs a new one);
   * `lastFull` is the newest recorded walk of the whole chain (the nightly job; null: never yet);
   * `verifyPath` walks the whole chain on demand.
   */
  chain: { sinceCheckpoint: SinceCheckpointVerification; lastFull: RecordedFullVerification | null; verifyPath: string };
  /**
   * The chain's signed checkpoint as of this report (the JWS, and what it says): kept with the
   * report, it lets a later verification find entries deleted or re-chained since.
   */
  checkpoint: Checkpoint | null;
  /** Where the key that signed it is published. */
  checkpointKeys: string;
}

/** A period of whole UTC days, `to` inclusive; open ends default to the shared range up to today. */
export function resolvePeriod(q: PeriodQuery, now: Date): { from: Date; to: Date; fromDay: string; toDay: string } {
  const { from: fromDay, to: toDay } = defaultDayRange(q, now.toISOString().slice(0, 10));
  const bad = dayRangeProblem(fromDay, toDay);
  if (bad) throw new AppError('validation_failed', `Invalid query: ${bad.message}`, [{ path: 'from', problem: bad.problem }]);
  // `to` is exclusive as an instant: the start of the day after the last one.
  return { from: new Date(`${fromDay}T00:00:00Z`), to: new Date(`${addDays(toDay, 1)}T00:00:00Z`), fromDay, toDay };
}

/**
 * The compliance report: consent coverage per team and policy version (from the reporting
 * module's coverage, which audits the read), withdrawals, erasures and reads of personal
 * data in the period (from the audit log), and the chain's verification.
 */
export function createComplianceReport(deps: {
  compliance: ComplianceReports;
  consent: ConsentService;
  directory: DirectoryService;
  audit: AuditService;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  return {
    async build(user: SignedInUser, query: PeriodQuery): Promise<ComplianceReport> {
      if (user.role !== 'admin' && user.role !== 'auditor')
        throw new AppError('forbidden', `The compliance report needs the role admin or auditor; you are ${user.role}`);
      const period = resolvePeriod(query, now());
      // One walk since the newest checkpoint states what was proved now, from the checkpoint
      // before, and signs the head this report carries (nothing is signed over a chain with problems).
      const { sinceCheckpoint, checkpoint } = await deps.audit.verifyAndCheckpoint(user.orgId);
      const [coverage, teams, withdrawals, erasures, access, lastFull] = await Promise.all([
        deps.compliance.coverageByTeam(user),
        deps.directory.listTeams(user.orgId),
        deps.consent.withdrawalsSince(user.orgId, period.from),
        deps.audit.search(user.orgId, { action: 'erasure.', from: period.from, to: period.to }, { limit: 1000 }),
        deps.audit.personalDataAccess(user.orgId, period.from, period.to),
        deps.audit.lastFullVerification(user.orgId),
      ]);
      const teamName = new Map(teams.map((t) => [t.id, t.name]));
      const names = new Map(coverage.people.map((p) => [p.id, p.name]));
      const groups: CoverageRow[] = coverage.groups.map(({ teamId, ...counts }) => ({
        teamId,
        teamName: teamId ? (teamName.get(teamId) ?? 'unknown team') : 'no team',
        ...counts,
      }));
      await deps.audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.userId,
        action: 'compliance.report_viewed',
        details: { from: period.fromDay, to: period.toDay },
      });
      return {
        period: { from: period.fromDay, to: period.toDay },
        generatedAt: now().toISOString(),
        currentPolicyVersion: coverage.policyVersion,
        coverage: groups.sort((a, b) => a.teamName.localeCompare(b.teamName) || (a.policyVersion ?? 0) - (b.policyVersion ?? 0)),
        withdrawals: withdrawals
          .filter((w) => w.effectiveAt < period.to)
          .map((w) => ({
            userId: w.userId,
            name: (w.userId && names.get(w.userId)) || 'unknown person',
            deviceId: w.deviceId,
            at: w.effectiveAt.toISOString(),
            remaining: w.granted,
          })),
        erasures: erasures.map((e) => ({ at: e.at.toISOString(), action: e.action, subjectUserIds: e.subjectUserIds, actorId: e.actorId })),
        personalDataAccess: access,
        chain: { sinceCheckpoint, lastFull, verifyPath: '/audit/verify' },
        checkpoint,
        checkpointKeys: '/v1/audit-keys',
      };
    },
  };
}
export type ComplianceReportService = ReturnType<typeof createComplianceReport>;
