import { addDays, weekOf } from '@icarus/shared';
import type { AuditService } from '../audit';
import type { ComplianceReports } from '../compliance';
import type { PolicyDrafts } from '../consent';
import type { AccountService } from '../identity';
import type { ReportingService } from '../reporting';
import type { SignedInUser } from '../../platform/env';

export interface HomeDeps {
  reports: ReportingService;
  compliance: ComplianceReports;
  drafts: PolicyDrafts;
  audit: AuditService;
  accounts: Pick<AccountService, 'notYetInvited'>;
  /** Whether invitations can go out (SMTP configured). */
  mailEnabled: boolean;
}

/** How many devices the attention list names before it says "and N more". */
const LISTED = 5;

/**
 * What each role's home page shows, read from the services that own it: no figure here is
 * computed a second time. Team figures come from the reporting service's team summary (so they
 * are suppressed and audited as the report is), the rest from compliance, consent and audit.
 */
export function createHomeService(deps: HomeDeps) {
  const { reports } = deps;

  /** The person's own week so far (Monday to today, the org's days): their own data, always readable to them. */
  async function ownWeek(user: SignedInUser) {
    const { today } = await reports.teams(user);
    const from = weekOf(today).week;
    return reports.personDetail(user, { userId: user.userId, from, to: today });
  }

  return {
    ownWeek,

    /** A manager's teams, each with the last four weeks' summary as the team report shows it. */
    async managerHome(user: SignedInUser) {
      const { teams, today } = await reports.teams(user);
      const from = addDays(today, -27);
      const summaries = await Promise.all(teams.map((t) => reports.teamSummary(user, { teamId: t.id, from, to: today })));
      return { today, from, summaries };
    },

    /** What needs an admin's attention: devices, consent, policy versions awaiting a decision, the audit chain, people who cannot sign in. */
    async adminHome(user: SignedInUser) {
      const [health, coverage, versions, chain, notInvited] = await Promise.all([
        deps.compliance.deviceHealth(user),
        deps.compliance.consentCoverage(user),
        deps.drafts.list(user),
        deps.audit.verify(user.orgId),
        deps.accounts.notYetInvited(user.orgId),
      ]);
      const live = health.devices.filter((d) => !d.revoked);
      const silent = live.filter((d) => d.stale);
      const dropping = live.filter((d) => (d.droppedSpans ?? 0) > 0);
      return {
        devices: {
          total: health.summary.total,
          active: health.summary.active,
          silent: silent.length,
          dropping: dropping.length,
          droppedSpans: health.summary.droppedSpans,
          listed: [...new Map([...silent, ...dropping].map((d) => [d.deviceId, d])).values()].slice(0, LISTED),
        },
        consent: { people: coverage.people, policyVersion: coverage.policyVersion, ...coverage.counts },
        awaitingApproval: versions.filter((v) => v.state === 'in_review'),
        drafts: versions.filter((v) => v.state === 'draft'),
        chain: { ok: chain.ok, entries: chain.entries, problems: chain.problems.map((p) => p.kind), checkpoints: chain.checkpoints.length },
        notInvited: { count: notInvited.length, names: notInvited.slice(0, LISTED).map((p) => p.name), canInvite: deps.mailEnabled },
      };
    },
  };
}
export type HomeService = ReturnType<typeof createHomeService>;
export type AdminHome = Awaited<ReturnType<HomeService['adminHome']>>;
export type ManagerHome = Awaited<ReturnType<HomeService['managerHome']>>;
export type OwnWeek = Awaited<ReturnType<HomeService['ownWeek']>>;
