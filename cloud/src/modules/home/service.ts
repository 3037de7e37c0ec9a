import { addDays, weekOf } from '@icarus/shared';
import type { AuditService } from '../audit';
import type { ComplianceReports } from '../compliance';
import type { PolicyDrafts } from '../consent';
import type { DeviceService } from '../devices';
import type { AccountService } from '../identity';
import type { ReportingService } from '../reporting';
import type { SignedInUser } from '../../platform/env';

export interface HomeDeps {
  reports: ReportingService;
  compliance: ComplianceReports;
  drafts: PolicyDrafts;
  audit: AuditService;
  accounts: Pick<AccountService, 'notYetInvited'>;
  /** The fleet's health counted by the database, and its silent or dropping devices a page at a time (the devices page's own queries). */
  fleet: Pick<DeviceService, 'fleetSummary' | 'searchFleet'>;
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
      const firstFew = (health: 'silent' | 'dropping') =>
        deps.fleet.searchFleet(user.orgId, { state: 'active', health, sort: 'lastSync', descending: false, offset: 0, limit: LISTED });
      const [fleet, silentFew, droppingFew, coverage, versions, chain, notInvited] = await Promise.all([
        // Counted by the database, as on the devices page: 10,000 devices are not read to count them.
        deps.fleet.fleetSummary(user.orgId),
        firstFew('silent'),
        firstFew('dropping'),
        // Counted by the database per team and policy version, not read a device at a time.
        deps.compliance.coverageByTeam(user),
        deps.drafts.list(user),
        // From the last signed checkpoint on: the whole chain is the audit log's Verify page.
        deps.audit.verifySinceCheckpoint(user.orgId),
        deps.accounts.notYetInvited(user.orgId),
      ]);
      const listed = [...new Map([...silentFew.rows, ...droppingFew.rows].map((d) => [d.id, d])).values()].slice(0, LISTED);
      return {
        devices: {
          total: fleet.active + fleet.revoked,
          active: fleet.active,
          silent: fleet.silent,
          dropping: fleet.dropping,
          listed: listed.map((d) => ({
            deviceId: d.id,
            name: d.name,
            lastSyncAt: d.lastSeenAt ? d.lastSeenAt.toISOString() : null,
            droppedSpans: d.status?.droppedSpans ?? null,
          })),
        },
        consent: { people: coverage.people.length, policyVersion: coverage.policyVersion, ...coverage.counts },
        awaitingApproval: versions.filter((v) => v.state === 'in_review'),
        drafts: versions.filter((v) => v.state === 'draft'),
        chain: { ok: chain.ok, entries: chain.entries, walked: chain.walked, problems: chain.problems.map((p) => p.kind), checkpoint: chain.checkpoint },
        notInvited: { count: notInvited.length, names: notInvited.slice(0, LISTED).map((p) => p.name), canInvite: deps.mailEnabled },
      };
    },
  };
}
export type HomeService = ReturnType<typeof createHomeService>;
export type AdminHome = Awaited<ReturnType<HomeService['adminHome']>>;
export type ManagerHome = Awaited<ReturnType<HomeService['managerHome']>>;
export type OwnWeek = Awaited<ReturnType<HomeService['ownWeek']>>;
