import { sql } from 'drizzle-orm';
import type { RunningCloud } from '../../src/start';

/**
 * Moves a device's enrollment and its consent decisions back to `at`, as if it had enrolled and
 * consented then (the cloud refuses spans from before either), and tells the running cloud's
 * caches: a row changed behind the services is otherwise served as it was cached.
 */
export async function backdateDevice(
  running: Pick<RunningCloud, 'database' | 'cloud'>,
  deviceId: string,
  at: Date,
  what: { enrollment?: boolean; consent?: boolean } = { enrollment: true, consent: true },
): Promise<void> {
  const when = at.toISOString();
  const { bus } = running.cloud.services;
  if (what.enrollment !== false) {
    await running.database.rows(sql`update devices set enrolled_at = ${when}::timestamptz where id = ${deviceId}`);
    await bus.publish('device', deviceId);
  }
  if (what.consent !== false) {
    await running.database.rows(sql`update consent_records set effective_at = ${when}::timestamptz where device_id = ${deviceId}`);
    await bus.publish('consent-timeline', deviceId);
  }
}
