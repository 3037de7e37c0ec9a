import { weekOf } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrolledDevice } from '../devices';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice } from '../../../test/support/device-client';
import { createRollupQueries } from './query-store';
import { dayInZone } from './rollup';
import { backdateDevice } from '../../../test/support/backdate';

const APPS = ['Code', 'firefox', 'Slack', 'steam', 'mystery-tool', null] as const;

describe.each(testDatabaseKinds())('rollups on %s', (kind) => {
  let cloud: TestCloud;
  let owner: EnrolledDevice;
  let consentAt: number;
  /** Where the next span may start: after every span sent so far. */
  let cursor: number;
  let zone: (at: Date) => string;
  /** Every distinct span ever accepted: the oracle the rollups must equal. */
  const accepted = new Map<string, { start: number; durationMs: number; app: string | null; idle: boolean }>();

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { orgId } = cloud.bootstrap;
    const team = await cloud.cloud.services.directory.createTeam(orgId, 'Platform');
    const user = await cloud.cloud.services.directory.createUser({
      orgId,
      email: 'alice@demo.test',
      name: 'Alice',
      role: 'employee',
      osUser: 'alice',
      teamId: team.id,
    });
    const device = await createTestDevice(cloud.fetchPath, cloud.url, await cloud.tokenFor(user.id), 'alice');
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
    // Enrolled and consenting weeks ago: every run lays its spans after the last run's, all in the past.
    consentAt = Date.now() - 25 * 86_400_000;
    cursor = consentAt + 1000;
    const since = new Date(consentAt).toISOString();
    await backdateDevice(cloud, device.deviceId, new Date(since));
    owner = await cloud.cloud.services.devices.requireActive(device.deviceId);
    const org = await cloud.cloud.services.directory.findOrg(orgId);
    zone = dayInZone(org?.timeZone ?? 'UTC');
  });
  afterAll(async () => cloud?.stopAll());

  const span = fc.record({
    offsetMs: fc.integer({ min: 0, max: 10 * 60_000 }),
    durationMs: fc.integer({ min: 1, max: 3_600_000 }),
    app: fc.constantFrom(...APPS),
    idle: fc.boolean(),
  });

  it('equal the raw spans whatever the duplicates, order and batching', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(span, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        async (raw, batches, seed) => {
          // One device's spans never overlap: each starts a gap (offsetMs) after the one before.
          const spans = raw.map((s) => {
            const start = cursor + s.offsetMs;
            cursor = start + s.durationMs;
            return {
              id: uuidv7(),
              start: new Date(start).toISOString(),
              durationMs: s.durationMs,
              ...(s.app !== null ? { app: s.app } : {}),
              ...(s.idle ? { idle: true as const } : {}),
            };
          });
          // Resend a shuffled copy with some spans repeated, split into several batches.
          const resend = [...spans, ...spans.filter((_, i) => (i + seed) % 3 === 0)].sort(
            (a, b) => ((a.id.charCodeAt(35) + seed) % 7) - ((b.id.charCodeAt(35) + seed) % 7),
          );
          const size = Math.ceil(resend.length / batches);
          for (let i = 0; i < resend.length; i += size) {
            await cloud.cloud.services.ingestion.ingest(owner, { batchId: uuidv7(), spans: resend.slice(i, i + size) });
          }
          // Sent once more whole: each span is now a duplicate (stored) or refused (a day over 24 h).
          const last = await cloud.cloud.services.ingestion.ingest(owner, { batchId: uuidv7(), spans });
          expect(last.accepted).toBe(0);
          expect(last.rejected.every((r) => r.reason === 'day_over_24h')).toBe(true);
          const refused = new Set(last.rejected.map((r) => r.id));
          for (const s of spans.filter((x) => !refused.has(x.id)))
            accepted.set(s.id, { start: Date.parse(s.start), durationMs: s.durationMs, app: s.app ?? null, idle: s.idle === true });
          await cloud.cloud.services.analytics.flush();

          const expected = new Map<string, { active: number; idle: number }>();
          for (const s of accepted.values()) {
            const key = `${zone(new Date(s.start))}|${s.app ?? '(no app)'}`;
            const e = expected.get(key) ?? { active: 0, idle: 0 };
            if (s.idle) e.idle += s.durationMs;
            else e.active += s.durationMs;
            expected.set(key, e);
          }
          const queries = createRollupQueries(cloud.database);
          const got = new Map<string, { active: number; idle: number }>();
          for await (const page of queries.exportRows(
            owner.orgId,
            [owner.userId ?? ''],
            zone(new Date(consentAt - 86_400_000)),
            zone(new Date(Date.now() + 86_400_000)),
          )) {
            for (const r of page) {
              const key = `${r.day}|${r.app}`;
              const g = got.get(key) ?? { active: 0, idle: 0 };
              g.active += r.activeMs;
              g.idle += r.idleMs;
              got.set(key, g);
            }
          }
          expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));

          // The person-day and org-week rollups the reports read must tell the same story.
          const perDay = new Map<string, { active: number; idle: number }>();
          const perWeek = new Map<string, { active: number; idle: number }>();
          for (const [key, e] of expected) {
            const day = key.slice(0, 10);
            for (const [map, k] of [
              [perDay, day],
              [perWeek, weekOf(day).week],
            ] as const) {
              const a = map.get(k) ?? { active: 0, idle: 0 };
              a.active += e.active;
              a.idle += e.idle;
              map.set(k, a);
            }
          }
          const from = zone(new Date(consentAt - 86_400_000));
          const to = zone(new Date(Date.now() + 86_400_000));
          const days = await queries.userDayTotals(owner.orgId, [owner.userId ?? ''], from, to);
          expect(Object.fromEntries(days.map((d) => [d.day, { active: d.activeMs, idle: d.idleMs }]))).toEqual(Object.fromEntries(perDay));
          const weeks = await queries.orgWeeks(owner.orgId, from, to);
          expect(Object.fromEntries(weeks.map((w) => [w.week, { active: w.activeMs, idle: w.idleMs, people: w.people }]))).toEqual(
            Object.fromEntries([...perWeek].map(([w, t]) => [w, { ...t, people: 1 }])),
          );
        },
      ),
      { numRuns: 12 },
    );
  });

  it('the consistency check finds nothing to repair, then repairs a day whose deltas were lost', async () => {
    const { analytics } = cloud.cloud.services;
    const first = await analytics.checkConsistency(owner.orgId, '2000-01-01', '2100-01-01');
    expect(first.repairedDays).toEqual([]);
    // Spans that reached the table without the ingest path (a restore, a hand repair): no
    // outbox row, so no deltas. Only the safety net can bring the rollups back in line.
    const lost = { id: uuidv7(), start: new Date(cursor + 60_000).toISOString(), durationMs: 60_000, app: 'Code' };
    await cloud.database.rows(sql`insert into spans (id, start, org_id, device_id, user_id, duration_ms, app)
      values (${lost.id}, ${lost.start}, ${owner.orgId}, ${owner.deviceId}, ${owner.userId}, ${lost.durationMs}, ${lost.app})`);
    const second = await analytics.checkConsistency(owner.orgId, '2000-01-01', '2100-01-01');
    expect(second.repairedDays).toEqual([zone(new Date(lost.start))]);
    expect((await analytics.checkConsistency(owner.orgId, '2000-01-01', '2100-01-01')).repairedDays).toEqual([]);
  });
});
