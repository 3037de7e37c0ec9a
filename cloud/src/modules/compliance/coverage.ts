import { ALL_SCOPES, type Scope } from '@icarus/shared';
import type { SignedInUser } from '../../platform/env';
import { requireRole, type ReportDeps } from '../reporting';
import type { ConsentCoverage, DeviceHealth } from '../reporting';

/** A device that has not synced for this long is reported as stale. */
const STALE_AFTER_MS = 3 * 86_400_000;
const WITHDRAWALS_WINDOW_MS = 30 * 86_400_000;

/** Compliance reports for admins and auditors: consent coverage and device health. */
export function createComplianceReports(
  deps: ReportDeps & { viewed: (user: SignedInUser, action: string, subjects: Iterable<string>, details: Record<string, unknown>) => Promise<void> },
) {
  const now = deps.now ?? (() => new Date());
  return {
    async consentCoverage(user: SignedInUser): Promise<ConsentCoverage> {
      requireRole(user, 'admin', 'auditor');
      const at = now();
      const [people, decisions, policy, withdrawals] = await Promise.all([
        deps.directory.listMembers(user.orgId),
        // A row per person from the database, not every device's decisions with their receipts.
        deps.consent.latestDecisions(user.orgId),
        deps.consent.currentPolicy(user.orgId).catch(() => undefined),
        deps.consent.withdrawalsSince(user.orgId, new Date(at.getTime() - WITHDRAWALS_WINDOW_MS)),
      ]);
      const latest = new Map(decisions.map((d) => [d.userId, d]));
      const version = policy?.version ?? null;
      const counts = { granted: 0, declined: 0, withdrawn: 0, pendingReconsent: 0, noDecision: 0 };
      const byScope = new Map<Scope, number>(ALL_SCOPES.map((s) => [s, 0]));
      const rows = people.map((p) => {
        const c = latest.get(p.id);
        const state: ConsentCoverage['rows'][number]['state'] = c ? c.decision : 'no_decision';
        const pendingReconsent = c !== undefined && version !== null && c.policyVersion < version;
        if (state === 'no_decision') counts.noDecision++;
        else counts[state]++;
        if (pendingReconsent) counts.pendingReconsent++;
        for (const s of c?.granted ?? []) byScope.set(s, (byScope.get(s) ?? 0) + 1);
        return {
          userId: p.id,
          name: p.name,
          teamId: p.teamId,
          state,
          granted: c?.granted ?? [],
          policyVersion: c?.policyVersion ?? null,
          pendingReconsent,
          decidedAt: c ? c.effectiveAt.toISOString() : null,
        };
      });
      await deps.viewed(
        user,
        'report.consent_coverage.viewed',
        people.map((p) => p.id),
        { policyVersion: version },
      );
      return {
        policyVersion: version,
        people: people.length,
        byScope: [...byScope.entries()].map(([scope, granted]) => ({ scope, granted })),
        counts,
        rows,
        recentWithdrawals: withdrawals.map((w) => ({ userId: w.userId, deviceId: w.deviceId, at: w.effectiveAt.toISOString(), remaining: w.granted })),
      };
    },

    /**
     * Coverage per team and policy version, counted by the database (a row per group, however
     * many devices): the compliance report's table. The read is audited as the per-person
     * coverage is, naming everyone counted; the members come back for their names, and the
     * org's totals (the admin home's figures) with them.
     */
    async coverageByTeam(user: SignedInUser) {
      requireRole(user, 'admin', 'auditor');
      const [people, policy] = await Promise.all([deps.directory.listMembers(user.orgId), deps.consent.currentPolicy(user.orgId).catch(() => undefined)]);
      const version = policy?.version ?? null;
      const groups = await deps.consent.coverageCounts(user.orgId, people, version);
      await deps.viewed(
        user,
        'report.consent_coverage.viewed',
        people.map((p) => p.id),
        { policyVersion: version },
      );
      const counts = { granted: 0, declined: 0, withdrawn: 0, pendingReconsent: 0, noDecision: 0 };
      for (const g of groups) for (const key of Object.keys(counts) as (keyof typeof counts)[]) counts[key] += g[key];
      return { policyVersion: version, people, groups, counts };
    },

    async deviceHealth(user: SignedInUser): Promise<DeviceHealth> {
      requireRole(user, 'admin');
      const at = now().getTime();
      const devices = await deps.devices.listDevices(user.orgId);
      const rows = devices.map((d) => ({
        deviceId: d.id,
        name: d.name,
        platform: d.platform,
        userId: d.userId,
        lastSyncAt: d.lastSeenAt ? d.lastSeenAt.toISOString() : null,
        agentVersion: d.status?.agentVersion ?? d.agentVersion,
        pendingSpans: d.status?.pendingSpans ?? null,
        droppedSpans: d.status?.droppedSpans ?? null,
        revoked: d.revokedAt !== null,
        stale: d.revokedAt === null && (d.lastSeenAt === null || at - d.lastSeenAt.getTime() > STALE_AFTER_MS),
      }));
      const versions: Record<string, number> = {};
      for (const r of rows) if (!r.revoked) versions[r.agentVersion ?? 'unknown'] = (versions[r.agentVersion ?? 'unknown'] ?? 0) + 1;
      await deps.viewed(
        user,
        'report.device_health.viewed',
        rows.flatMap((r) => (r.userId ? [r.userId] : [])),
        { devices: rows.length },
      );
      return {
        devices: rows,
        summary: {
          total: rows.length,
          active: rows.filter((r) => !r.revoked && !r.stale).length,
          stale: rows.filter((r) => r.stale).length,
          revoked: rows.filter((r) => r.revoked).length,
          droppedSpans: rows.reduce((n, r) => n + (r.droppedSpans ?? 0), 0),
          versions,
        },
      };
    },
  };
}
export type ComplianceReports = ReturnType<typeof createComplianceReports>;
