import { sql } from 'drizzle-orm';
import { UUID, uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestResult, type Span } from '@icarus/shared';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, type TestDevice } from '../../../test/support/device-client';
import { backdateDevice } from '../../../test/support/backdate';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const span = (start: number, durationMs: number, app = 'Code'): Span => ({ id: uuidv7(), start: new Date(start).toISOString(), durationMs, app });

describe.each(testDatabaseKinds())('spans that cannot be true, on %s', (kind) => {
  let cloud: TestCloud;
  let serial = 0;

  const send = async (device: TestDevice, spans: Span[]) => {
    const res = await device.ingest(spans);
    expect(res.status).toBe(200);
    return IngestResult.parse(await res.json());
  };
  const storedRows = async (ids: string[]) =>
    (await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from spans where id = any(${`{${ids.join(',')}}`}::uuid[])`))[0]?.n ?? -1;

  /** A device of a person (a fresh one unless named), enrolled and consenting `since` ago as far as the server knows. */
  async function deviceOf(since: number, name = `truth${serial++}`) {
    const { token } = await cloud.personToken(name);
    const device = await createTestDevice(cloud.fetchPath, cloud.url, token, name);
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
    const at = new Date(Date.now() - since).toISOString();
    await backdateDevice(cloud, device.deviceId, new Date(at));
    return device;
  }

  /** Midnight of the org's day `days` back, as an instant (the org's time zone decides). */
  async function localMidnight(days: number): Promise<number> {
    const [row] = await cloud.database.rows<{ at: Date | string }>(sql`
      select (((now() at time zone o.time_zone)::date - ${days}::int)::timestamp at time zone o.time_zone) as at
      from orgs o where o.id = ${cloud.bootstrap.orgId}`);
    return new Date(row?.at ?? 0).getTime();
  }

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
  });
  afterAll(async () => cloud?.stopAll());

  it('refuses a span that ends in the future beyond the clock skew, and takes one within it', async () => {
    const device = await deviceOf(DAY);
    const now = Date.now();
    const ahead = span(now + 2 * DAY, 60_000);
    const endOfTime = { ...span(0, 1000), start: '9999-12-31T23:00:00.000Z' };
    const endsAhead = span(now - 60_000, 10 * 60_000); // started a minute ago, ends in 9 minutes
    const skewed = span(now + 60_000, 60_000); // a device clock a minute or two ahead
    const result = await send(device, [ahead, endOfTime, endsAhead, skewed]);
    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([
      { id: ahead.id, reason: 'in_future' },
      { id: endOfTime.id, reason: 'in_future' },
      { id: endsAhead.id, reason: 'in_future' },
    ]);
    expect(await storedRows([ahead.id, endOfTime.id, endsAhead.id])).toBe(0);
  });

  it('refuses a span that starts before the device was enrolled', async () => {
    const device = await deviceOf(DAY);
    const before = span(Date.now() - 2 * DAY, 60_000);
    const after = span(Date.now() - DAY + HOUR, 60_000);
    const result = await send(device, [before, after]);
    expect(result).toMatchObject({ accepted: 1, rejected: [{ id: before.id, reason: 'before_enrollment' }] });
    expect(await storedRows([before.id])).toBe(0);
  });

  it('refuses spans of one device that overlap each other or what it already sent', async () => {
    const device = await deviceOf(2 * DAY);
    const start = Date.now() - DAY;
    // Thirty one-hour spans with the same start: thirty hours in one hour.
    const piled = Array.from({ length: 30 }, () => span(start, HOUR));
    const first = await send(device, piled);
    expect(first.accepted).toBe(1);
    expect(first.rejected).toEqual(piled.slice(1).map((s) => ({ id: s.id, reason: 'overlap' })));
    // Later batches: inside the stored hour, straddling its end, and touching it (allowed).
    const inside = span(start + 10 * 60_000, 60_000);
    const straddling = span(start + HOUR - 1000, 60_000);
    const touching = span(start + HOUR + 60_000, 60_000);
    const second = await send(device, [inside, straddling, touching, span(start + HOUR + 120_000, 60_000)]);
    expect(second.accepted).toBe(2);
    expect(second.rejected).toEqual([
      { id: inside.id, reason: 'overlap' },
      { id: straddling.id, reason: 'overlap' },
    ]);
    const [row] = await cloud.database.rows<{ ms: number }>(
      sql`select coalesce(sum(duration_ms), 0)::int as ms from spans where device_id = ${device.deviceId}`,
    );
    expect(row?.ms).toBe(HOUR + 2 * 60_000);
  });

  it('finds an overlap with a stored span whichever begins first, at the same instant too, and lets touching and empty spans be', async () => {
    const device = await deviceOf(2 * DAY);
    const start = Date.now() - DAY;
    expect((await send(device, [span(start, 10 * 60_000), span(start + HOUR, 60_000)])).accepted).toBe(2);
    // One batch each: a batch true on its own is checked against what is stored inside its insert.
    const sameInstant = span(start, 1000);
    const coversStored = span(start + HOUR - 30_000, 2 * 60_000);
    for (const s of [sameInstant, coversStored]) {
      expect(await send(device, [s])).toMatchObject({ accepted: 0, rejected: [{ id: s.id, reason: 'overlap' }] });
    }
    const endsAtStored = span(start - 60_000, 60_000);
    const empty = span(start + 5 * 60_000, 0);
    expect(await send(device, [endsAtStored, empty])).toMatchObject({ accepted: 2, rejected: [] });
    expect(await storedRows([sameInstant.id, coversStored.id])).toBe(0);
  });

  it('finds an overlap with the last of several stored spans begun before the batch, and none with the earlier ones', async () => {
    const device = await deviceOf(2 * DAY);
    const start = Date.now() - DAY;
    // A working hour as an agent sends it: short spans, then a long one still open at the batch's time.
    const stored = [span(start, 60_000), span(start + 2 * 60_000, 60_000), span(start + 4 * 60_000, 40 * 60_000)];
    expect((await send(device, stored)).accepted).toBe(3);
    const insideLast = span(start + 30 * 60_000, 60_000);
    const afterAll = span(start + 50 * 60_000, 60_000);
    expect(await send(device, [insideLast, afterAll])).toMatchObject({ accepted: 1, rejected: [{ id: insideLast.id, reason: 'overlap' }] });
    expect(await storedRows([insideLast.id, afterAll.id])).toBe(1);
  });

  it('lets two devices of one person record the same hour, but never more than 24 h in one of their days', async () => {
    const name = `two-devices${serial++}`;
    const laptop = await deviceOf(4 * DAY, name);
    const desktop = await deviceOf(4 * DAY, name);
    const midnight = await localMidnight(2);
    const day = Array.from({ length: 23 }, (_, h) => span(midnight + h * HOUR, HOUR));
    expect((await send(laptop, day)).accepted).toBe(23);
    const fits = span(midnight, HOUR);
    const over = span(midnight + HOUR, 1000);
    const nextDay = span(midnight + DAY + HOUR, HOUR);
    const result = await send(desktop, [fits, over, nextDay]);
    expect(result.accepted).toBe(2);
    expect(result.rejected).toEqual([{ id: over.id, reason: 'day_over_24h' }]);
    expect(await storedRows([over.id])).toBe(0);
  });

  it('refuses a known span id sent again with another start, and counts an identical resend as a duplicate', async () => {
    const device = await deviceOf(DAY);
    // As the agent makes it: the id's uuidv7 clock is the moment the span opened.
    const opened = Date.now() - 5 * HOUR;
    const original = { ...span(opened, 60_000), id: UUID.fromFieldsV7(opened, 0x123, 0x2345678, 0x9abcdef0).toString() };
    expect((await send(device, [original])).accepted).toBe(1);
    const sameDay = { ...original, start: new Date(Date.parse(original.start) + 2 * HOUR).toISOString() };
    const otherDay = { ...original, start: new Date(Date.parse(original.start) - 18 * HOUR).toISOString() };
    for (const moved of [sameDay, otherDay]) {
      const result = await send(device, [moved]);
      expect(result).toMatchObject({ accepted: 0, duplicates: 0, rejected: [{ id: original.id, reason: 'start_changed' }] });
    }
    expect(await send(device, [original])).toMatchObject({ accepted: 0, duplicates: 1, rejected: [] });
    expect(await storedRows([original.id])).toBe(1);
  });

  it('keeps two batches of one device sent at the same moment from overlapping', async () => {
    const device = await deviceOf(DAY);
    const start = Date.now() - 10 * HOUR;
    const a = Array.from({ length: 20 }, (_, i) => span(start + i * 60_000, 60_000));
    const b = Array.from({ length: 20 }, (_, i) => span(start + 30_000 + i * 60_000, 60_000));
    const results = await Promise.all([send(device, a), send(device, b)]);
    expect(results.map((r) => r.accepted).sort()).toEqual([0, 20]);
    const [row] = await cloud.database.rows<{ ms: number }>(
      sql`select coalesce(sum(duration_ms), 0)::int as ms from spans where device_id = ${device.deviceId}`,
    );
    expect(row?.ms).toBe(20 * 60_000);
  });
});
