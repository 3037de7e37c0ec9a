import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPeople, DAY_MS, noonDaysAgo, record } from '../../../test/support/activity';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { defaultPolicy } from '../consent';

/** Setting up three orgs with devices: minutes when the shared machine is busy. */
const SETUP_MS = 240_000;

/** Each org's retention, and the days back (at noon UTC) one of its people was active. */
const ORGS = [
  { name: 'Short', retentionDays: 30, activeDaysAgo: [2, 29, 30, 31, 100] },
  { name: 'Medium', retentionDays: 60, activeDaysAgo: [2, 59, 60, 61, 100] },
  { name: 'Long', retentionDays: 120, activeDaysAgo: [2, 100, 119, 120, 121] },
] as const;

/**
 * Retention over orgs with different policies, with daily partitions reaching back past
 * the longest: each org keeps exactly its last `retentionDays` days of raw spans.
 */
describe.each(testDatabaseKinds())('retention on %s', (kind) => {
  let cloud: TestCloud;
  const orgIds = new Map<string, string>();

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory, consent, devices, ingestion } = cloud.cloud.services;
    // Partitions for every day involved, so old days are dropped as partitions, not only rows.
    await ingestion.ensureDailyPartitions(new Date(Date.now() - 125 * DAY_MS), new Date(Date.now() + DAY_MS));
    for (const org of ORGS) {
      const { id } = await directory.createOrg({ name: org.name, timeZone: 'UTC' });
      orgIds.set(org.name, id);
      await consent.publish(id, { ...defaultPolicy(org.name), retentionDays: org.retentionDays }, { type: 'system', id: 'test' });
      const people = await addPeople(cloud, { teamId: null, count: 1, orgId: id, consentFrom: noonDaysAgo(130) });
      await record(
        cloud,
        people,
        org.activeDaysAgo.map((d) => ({ at: noonDaysAgo(d), ms: 60_000 })),
      );
    }
  }, SETUP_MS);
  afterAll(async () => cloud?.stopAll());

  const daysAgoStored = async (orgId: string) => {
    const rows = await cloud.database.rows<{ start: Date | string }>(sql`select start from spans where org_id = ${orgId} order by start desc`);
    const today = noonDaysAgo(0).getTime();
    return rows.map((r) => Math.round((today - new Date(r.start).getTime()) / DAY_MS));
  };

  it('keeps each org\u2019s last retentionDays days and drops every older day, whatever the other orgs keep', async () => {
    for (const org of ORGS) expect(await daysAgoStored(orgIds.get(org.name) ?? '')).toEqual([...org.activeDaysAgo]);
    const result = await cloud.cloud.services.analyticsJobs.retention(new Date());
    for (const org of ORGS) {
      const kept = org.activeDaysAgo.filter((d) => d <= org.retentionDays);
      expect(await daysAgoStored(orgIds.get(org.name) ?? ''), org.name).toEqual(kept);
    }
    // Only days past the longest retention (120) go as whole partitions.
    expect(result.droppedPartitions.length).toBeGreaterThan(0);
    const oldestKept = new Date(noonDaysAgo(120).getTime()).toISOString().slice(0, 10).replaceAll('-', '');
    expect(result.droppedPartitions.every((name) => name.slice(6) < oldestKept)).toBe(true);
    expect(result.deletedRows).toBe(4);
  });

  it('a second run removes nothing more', async () => {
    const again = await cloud.cloud.services.analyticsJobs.retention(new Date());
    expect(again).toEqual({ droppedPartitions: [], deletedRows: 0 });
  });
});
