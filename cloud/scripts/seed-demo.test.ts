// The demo seed writes history the way a running fleet would have: every device enrolled and
// consenting before the first span it sent, as ingestion would demand of a real one.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecrets } from '../src/platform/secrets';
import { startTestCloud, type TestCloud } from '../test/support/cloud';
import { seedDemo, SeedUnfinished, type SeedOptions } from './seed-demo';

const SMALL: SeedOptions = { employees: 8, teams: 2, days: 5, spansPerDay: 6 };

const spanCount = async (c: TestCloud) => (await c.database.rows<{ n: number }>(sql`select count(*)::int as n from spans`))[0]?.n;

describe('the demo seed', () => {
  let cloud: TestCloud;

  beforeAll(async () => {
    cloud = await startTestCloud('pglite');
    await seedDemo(cloud.cloud, cloud.database, loadSecrets(cloud.config), SMALL);
  }, 240_000);
  afterAll(async () => cloud?.stopAll());

  it('enrolls each device and records its consent before the first span it sent', async () => {
    const devices = await cloud.database.rows<{ device: string; enrolled: string; consented: string | null; first: string }>(sql`
      select d.id::text as device, d.enrolled_at::text as enrolled,
             (select min(c.effective_at)::text from consent_records c where c.device_id = d.id) as consented,
             (select min(s.start)::text from spans s where s.device_id = d.id) as first
      from devices d
      where exists (select 1 from spans s where s.device_id = d.id)`);
    expect(devices.length).toBeGreaterThan(0);
    const late = devices.filter((d) => Date.parse(d.enrolled) > Date.parse(d.first) || d.consented === null || Date.parse(d.consented) > Date.parse(d.first));
    expect(late).toEqual([]);
  });

  it('finds a finished seed on a second run and changes nothing', async () => {
    const before = await spanCount(cloud);
    const again = await seedDemo(cloud.cloud, cloud.database, loadSecrets(cloud.config), SMALL);
    expect(again.created).toBe(false);
    expect(await spanCount(cloud)).toBe(before);
  });

  it('names a seed stopped part-way instead of taking it for a finished one', async () => {
    const other = await startTestCloud('pglite');
    try {
      // Stopped once the devices are enrolled, before any span or rollup (as by Ctrl+C).
      const stopAtDevices = (line: string) => {
        if (line.startsWith('devices')) throw new Error('interrupted');
      };
      await expect(seedDemo(other.cloud, other.database, loadSecrets(other.config), SMALL, stopAtDevices)).rejects.toThrow('interrupted');
      await expect(seedDemo(other.cloud, other.database, loadSecrets(other.config), SMALL)).rejects.toBeInstanceOf(SeedUnfinished);
      expect(await spanCount(other)).toBe(0);
    } finally {
      await other.stopAll();
    }
  }, 240_000);
});
