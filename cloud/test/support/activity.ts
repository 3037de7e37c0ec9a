// Test-only: people of the demo org with enrolled devices, consent granted from a chosen
// instant (so spans days in the past are accepted), and activity stored through ingestion.
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import type { Role, Scope } from '@icarus/shared';
import type { TestCloud } from './cloud';
import { createTestDevice, type TestDevice } from './device-client';
import { backdateDevice } from './backdate';

export interface ActivePerson {
  userId: string;
  email: string;
  device: TestDevice;
}

export interface Activity {
  at: Date;
  ms: number;
  app?: string;
  idle?: boolean;
}

export const DAY_MS = 86_400_000;

let counter = 0;

/**
 * `count` people of the demo org in `teamId`, each on its own device (bound to them by a
 * per-person enrollment token, unless one is given) with `scopes` granted, the decision dated `consentFrom`.
 */
export async function addPeople(
  cloud: TestCloud,
  options: { teamId: string | null; count: number; consentFrom?: Date; scopes?: Scope[]; role?: Role; orgId?: string; enrollmentToken?: string },
): Promise<ActivePerson[]> {
  const { directory } = cloud.cloud.services;
  const orgId = options.orgId ?? cloud.bootstrap.orgId;
  const people: ActivePerson[] = [];
  for (let i = 0; i < options.count; i++) {
    const os = `person${process.pid}x${counter++}`;
    const email = `${os}@activity.test`;
    const { id } = await directory.createUser({ orgId, email, name: `Person ${os}`, role: options.role ?? 'employee', osUser: os, teamId: options.teamId });
    const device = await createTestDevice(cloud.fetchPath, cloud.url, options.enrollmentToken ?? (await cloud.tokenFor(id, orgId)), os);
    const decided = await device.consent(options.scopes ?? ['app_usage', 'idle']);
    if (decided.status !== 201) throw new Error(`consent failed: ${decided.status} ${await decided.text()}`);
    if (options.consentFrom) {
      // Enrolled then too: the server refuses spans from before a device's enrollment.
      await backdateDevice(cloud, device.deviceId, options.consentFrom);
    }
    people.push({ userId: id, email, device });
  }
  return people;
}

/** Stores the spans through ingestion (as if the device sent them) and waits for the rollups. */
export async function record(cloud: TestCloud, people: readonly ActivePerson[], activity: readonly Activity[]): Promise<void> {
  const { ingestion, analytics } = cloud.cloud.services;
  for (const person of people) {
    const spans = activity.map((a) => ({
      id: uuidv7(),
      start: a.at.toISOString(),
      durationMs: a.ms,
      app: a.app ?? 'Code',
      ...(a.idle ? { idle: true as const } : {}),
    }));
    const owner = await cloud.cloud.services.devices.requireActive(person.device.deviceId);
    const result = await ingestion.ingest(owner, { batchId: uuidv7(), spans });
    if (result.accepted !== spans.length) throw new Error(`ingest refused spans: ${JSON.stringify(result.rejected)}`);
  }
  await analytics.flush();
}

/** Noon UTC `days` days from today: inside the same calendar day in every European zone. */
export function noonDaysAgo(days: number): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 12) - days * DAY_MS);
}
