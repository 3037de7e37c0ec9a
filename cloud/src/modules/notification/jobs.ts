import type { Logger } from 'pino';
import type { DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import type { ScheduleJobs } from '../../platform/scheduler';
import type { SignedInUser } from '../../platform/env';
import type { ReportingService } from '../reporting';
import type { NotificationService } from './service';

interface Deps {
  notifications: NotificationService;
  devices: DeviceService;
  directory: DirectoryService;
  reports: ReportingService;
  /** The orgs the scheduled notices look at. */
  orgIds: () => Promise<string[]>;
  silentDays: number;
  /** When the weekly reports run (cron, UTC). */
  weeklyCron?: string;
  logger: Logger;
}

const DAY_MS = 86_400_000;
const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;
const dayBefore = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);

/** The scheduled notices as plain functions (tests call them), and a scheduler that runs them. */
export function createNotificationJobs(deps: Deps) {
  const { notifications, devices, directory, reports, logger } = deps;

  const jobs = {
    /** Devices with no sync for `silentDays`, reported to the org's admins once per silence. */
    async silentDevices(now: Date): Promise<number> {
      let queued = 0;
      const cutoff = now.getTime() - deps.silentDays * DAY_MS;
      for (const orgId of await deps.orgIds()) {
        const people = new Map((await directory.listMembers(orgId)).map((m) => [m.id, m.name]));
        for (const d of await devices.listDevices(orgId)) {
          const last = d.lastSeenAt ?? d.enrolledAt;
          if (d.revokedAt || last.getTime() > cutoff) continue;
          const lastSeenAt = d.lastSeenAt?.toISOString() ?? null;
          const days = Math.floor((now.getTime() - last.getTime()) / DAY_MS);
          const ownerName = d.userId ? (people.get(d.userId) ?? null) : null;
          // Keyed on the last sync: a device that comes back and goes quiet again is reported again.
          queued += await notifications.publish(
            { type: 'device.silent', orgId, deviceId: d.id, deviceName: d.name, ownerName, lastSeenAt, days },
            `silent:${d.id}:${lastSeenAt ?? 'never'}`,
          );
        }
      }
      return queued;
    },

    /**
     * Last week's team summary to each manager, read through the reports service as that
     * manager: the same suppression applies, and the read is audited as theirs.
     */
    async weeklyReports(): Promise<number> {
      let queued = 0;
      for (const orgId of await deps.orgIds()) {
        for (const member of await directory.listMembers(orgId)) {
          if (member.role !== 'manager') continue;
          const managedTeamIds = await directory.managedTeamIds(member.id);
          if (managedTeamIds.length === 0) continue;
          const manager: SignedInUser = {
            userId: member.id,
            orgId,
            email: member.email,
            name: member.name,
            role: 'manager',
            managedTeamIds,
            teamId: member.teamId,
            sessionId: 'scheduled:weekly-report',
          };
          const { teams, today } = await reports.teams(manager);
          const to = dayBefore(today, 1);
          const from = dayBefore(today, 7);
          for (const team of teams) {
            try {
              const summary = await reports.teamSummary(manager, { teamId: team.id, from, to });
              const lines =
                summary.hidden || !summary.totals
                  ? [summary.hidden?.explanation ?? 'Not enough people to show figures.']
                  : [
                      `${summary.people ?? 0} people, ${hours(summary.totals.activeMs)} active, ${hours(summary.totals.idleMs)} idle`,
                      ...(summary.totals.productiveShare === null ? [] : [`Productive share: ${Math.round(summary.totals.productiveShare * 100)}%`]),
                      ...summary.topApps.slice(0, 3).map((a) => `${a.app}: ${hours(a.activeMs)}`),
                    ];
              queued += await notifications.publish(
                { type: 'report.weekly', orgId, userId: member.id, teamId: team.id, teamName: team.name, from, to, lines },
                `weekly:${member.id}:${team.id}:${from}`,
              );
            } catch (err) {
              logger.warn({ err, orgId, teamId: team.id }, 'notification: weekly report skipped');
            }
          }
        }
      }
      return queued;
    },
  };

  return {
    ...jobs,
    /** Daily silent-device check and the weekly reports (Monday morning UTC unless configured). */
    schedule(scheduleJobs: ScheduleJobs): { stop: () => Promise<void> } {
      return scheduleJobs([
        { name: 'silent-devices', cron: '5 8 * * *', run: () => jobs.silentDevices(new Date()) },
        { name: 'weekly-reports', cron: deps.weeklyCron ?? '0 7 * * 1', run: () => jobs.weeklyReports() },
      ]);
    },
  };
}
export type NotificationJobs = ReturnType<typeof createNotificationJobs>;
