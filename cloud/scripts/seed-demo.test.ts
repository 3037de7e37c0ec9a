// The demo seed writes history the way a running fleet would have: every device enrolled and
// consenting before the first span it sent, as ingestion would demand of a real one.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecrets } from '../src/platform/secrets';
import { startTestCloud, type TestCloud } from '../test/support/cloud';
import { seedDemo } from './seed-demo';

describe('the demo seed', () => {
  let cloud: TestCloud;

  beforeAll(async () => {
    cloud = await startTestCloud('pglite');
    await seedDemo(cloud.cloud, cloud.database, loadSecrets(cloud.config), { employees: 8, teams: 2, days: 5, spansPerDay: 6 });
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
});
