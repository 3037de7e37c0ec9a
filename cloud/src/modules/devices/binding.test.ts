import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, ConsentResponse, DeviceBinding, IngestResult, WIRE_PATHS } from '@icarus/shared';
import { defaultPolicy } from '../consent';
import { ADMIN_API } from '../admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, json, makeSpans, type TestDevice } from '../../../test/support/device-client';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';
import { MY_DEVICES } from './my-devices';

const errorOf = async (res: Response) => ApiError.parse(await res.json()).error;

describe.each(testDatabaseKinds())('who a device speaks for, on %s', (kind) => {
  let bed: AdminTestbed;
  let fleetToken: string;
  let admin: Caller;
  let employee: Caller;
  let manager: Caller;
  const ids = { employee: '', teammate: '', outsider: '', foreign: '' };

  const bearer = (d: TestDevice) => ({ authorization: `Bearer ${d.accessToken}` });
  const fleetDevice = (osUser: string) => createTestDevice(bed.cloud.fetchPath, bed.cloud.url, fleetToken, osUser);
  const tokenFor = (userId: string) => bed.cloud.tokenFor(userId, bed.orgA.orgId);
  const bindingOf = async (d: TestDevice) => DeviceBinding.parse(await (await bed.cloud.fetchPath(WIRE_PATHS.binding, { headers: bearer(d) })).json());
  const pair = (d: TestDevice, code: string) => bed.cloud.fetchPath(WIRE_PATHS.pair, json({ code }, bearer(d)));
  const newCode = async (who: Caller) => ((await (await who.send('POST', MY_DEVICES.pairingCodes)).json()) as { code: string }).code;
  const personDetail = (userId: string) => manager.get(`/api/reports/person?userId=${userId}`);
  const spansOfDevice = async (deviceId: string) =>
    (await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from spans where device_id = ${deviceId}`))[0]?.n;
  const audited = async (action: string, deviceId: string) =>
    bed.cloud.database.rows<{ actor_id: string; subject_user_ids: string[] }>(
      sql`select actor_id, subject_user_ids from audit_log where action = ${action} and details->>'deviceId' = ${deviceId} order by seq`,
    );

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `bind-${kind}`);
    const { orgA, orgB } = bed;
    ids.employee = orgA.people.employee.id;
    ids.teammate = orgA.people.teammate.id;
    ids.outsider = orgA.people.outsider.id;
    ids.foreign = orgB.people.employee.id;
    // Managers may see individuals in this org, so consent is what decides individual detail.
    await bed.cloud.cloud.services.consent.publish(orgA.orgId, { ...defaultPolicy('A'), managersSeeIndividuals: true }, { type: 'system', id: 'test' });
    await bed.cloud.database.rows(sql`update users set os_user = 'emp' where id = ${ids.employee}`);
    fleetToken = (await bed.cloud.cloud.services.devices.createEnrollmentToken({ orgId: orgA.orgId, label: 'fleet', validDays: 1, maxUses: 100 })).token;
    [admin, employee, manager] = await Promise.all([bed.as('admin'), bed.as('employee'), bed.as('manager')]);
  });
  afterAll(async () => bed?.stop());

  it("the fleet token and a colleague's OS name (any case) give a device that speaks for no one", async () => {
    const own = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, await tokenFor(ids.employee), 'emp');
    expect((await own.consent(['app_usage', 'idle'])).status).toBe(201);
    expect((await own.ingest(makeSpans(3))).status).toBe(200);

    const impostor = await fleetDevice('EMP');
    expect(await bindingOf(impostor)).toMatchObject({ osUser: 'EMP', boundTo: null, method: null });
    for (const res of [
      await bed.cloud.fetchPath('/v1/me/spans', { headers: bearer(impostor) }),
      await bed.cloud.fetchPath('/v1/me/export', { headers: bearer(impostor) }),
      await bed.cloud.fetchPath('/v1/me/erasure', json({ eraseLocal: true }, bearer(impostor))),
    ]) {
      expect(res.status).toBe(403);
      expect((await errorOf(res)).code).toBe('device_unbound');
    }
    const decided = await impostor.consent(['app_usage', 'idle']);
    expect(decided.status).toBe(403);
    expect((await errorOf(decided)).code).toBe('device_unbound');
    const sent = IngestResult.parse(await (await impostor.ingest(makeSpans(2))).json());
    expect(sent.accepted).toBe(0);
    expect(sent.rejected.map((r) => r.reason)).toEqual(['device_unbound', 'device_unbound']);
    expect(sent.directives).toEqual([]);
    expect(await spansOfDevice(impostor.deviceId)).toBe(0);
    // Nothing happened to the colleague: no erasure, no wipe queued for their laptop, their data intact.
    const [erasures] = await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from erasure_requests where user_id = ${ids.employee}`);
    expect(erasures?.n).toBe(0);
    const [wipes] = await bed.cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from device_directives where device_id = ${own.deviceId} and directive->>'type' = 'erase_local'`,
    );
    expect(wipes?.n).toBe(0);
    expect(await spansOfDevice(own.deviceId)).toBe(3);
  });

  it('a pairing code from the web binds the device to that person; receipts name them', async () => {
    const laptop = await fleetDevice('whoever');
    const code = await newCode(employee);
    expect(code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}$/);
    const [stored] = await bed.cloud.database.rows<{ code_hash: string }>(
      sql`select code_hash from pairing_codes where user_id = ${ids.employee} order by created_at desc limit 1`,
    );
    expect(stored?.code_hash).not.toContain(code);
    // Typed the way people do: lower case, with the dash the page shows.
    const paired = await pair(laptop, `${code.slice(0, 4).toLowerCase()}-${code.slice(4)}`);
    expect(paired.status).toBe(200);
    expect(DeviceBinding.parse(await paired.json())).toMatchObject({
      boundTo: { name: 'employee', email: bed.orgA.people.employee.email },
      method: 'pairing_code',
    });
    expect((await bed.cloud.fetchPath('/v1/me/spans', { headers: bearer(laptop) })).status).toBe(200);
    const receipt = ConsentResponse.parse(await (await laptop.consent(['app_usage'])).json()).receipt;
    expect(receipt.payload.principal).toEqual({
      userId: ids.employee,
      name: 'employee',
      email: bed.orgA.people.employee.email,
      osUser: 'whoever',
      deviceId: laptop.deviceId,
    });
    expect(await audited('device.bound', laptop.deviceId)).toEqual([{ actor_id: laptop.deviceId, subject_user_ids: [ids.employee] }]);
    const mine = (await (await employee.get(MY_DEVICES.api)).json()) as { devices: { deviceId: string }[] };
    expect(mine.devices.map((d) => d.deviceId)).toContain(laptop.deviceId);
  });

  it('a code works once, not after 10 minutes, never when wrong; guessing is rate limited; bad input is a 400 naming code', async () => {
    const first = await fleetDevice('a');
    const second = await fleetDevice('b');
    const code = await newCode(employee);
    expect((await pair(first, code)).status).toBe(200);
    const reused = await pair(second, code);
    expect(reused.status).toBe(400);
    expect((await errorOf(reused)).fields).toEqual([{ path: 'code', problem: 'was already used' }]);

    const late = await newCode(employee);
    await bed.cloud.database.rows(sql`update pairing_codes set expires_at = now() - interval '1 second' where used_at is null and user_id = ${ids.employee}`);
    expect((await errorOf(await pair(second, late))).fields).toEqual([{ path: 'code', problem: 'has expired' }]);

    const malformed = await pair(second, 'abc');
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).fields?.[0]?.path).toBe('code');
    expect((await bindingOf(second)).boundTo).toBeNull();

    const guesser = await fleetDevice('c');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await pair(guesser, `2222222${'23456789'[i]}`)).status);
    expect(statuses.slice(0, 5)).toEqual([400, 400, 400, 400, 400]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect((await bindingOf(guesser)).boundTo).toBeNull();
  });

  it('IT assigns and unassigns from the admin API and page, audited; a person of another org is refused', async () => {
    const box = await fleetDevice('shared-box');
    const path = ADMIN_API.assignDevice.replace(':deviceId', box.deviceId);
    const foreign = await admin.send('POST', path, { userId: ids.foreign });
    expect(foreign.status).toBe(400);
    expect((await errorOf(foreign)).fields?.[0]?.path).toBe('userId');
    expect((await bindingOf(box)).boundTo).toBeNull();
    expect((await employee.send('POST', path, { userId: ids.employee })).status).toBe(403);

    const assigned = await admin.send('POST', path, { userId: ids.outsider });
    expect(assigned.status).toBe(200);
    expect((await bindingOf(box)).boundTo?.name).toBe('outsider');
    expect((await bindingOf(box)).method).toBe('it_assignment');
    expect((await admin.send('POST', path, { userId: null })).status).toBe(200);
    expect((await bindingOf(box)).boundTo).toBeNull();
    const adminId = bed.orgA.people.admin.id;
    expect(await audited('device.bound', box.deviceId)).toEqual([{ actor_id: adminId, subject_user_ids: [ids.outsider] }]);
    expect(await audited('device.unbound', box.deviceId)).toEqual([{ actor_id: adminId, subject_user_ids: [ids.outsider] }]);
    const page = await (await admin.get('/admin/devices?q=shared-box')).text();
    expect(page).toContain(`/admin/devices/${box.deviceId}`);
    expect(page).toContain('OS account shared-box');
    const devicePage = await (await admin.get(`/admin/devices/${box.deviceId}`)).text();
    expect(devicePage).toContain(`/admin/devices/${box.deviceId}/assign`);
    expect(devicePage).toContain('shared-box (a hint, not proof of who uses it)');
  });

  it('a per-user enrollment token binds at enrollment; one for a person of another org is refused', async () => {
    const made = await admin.send('POST', ADMIN_API.tokens, { label: 'MDM: teammate', validDays: 1, maxUses: 1, userId: ids.teammate });
    expect(made.status).toBe(201);
    const { token } = (await made.json()) as { token: string };
    const device = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, token, 'anything');
    expect(await bindingOf(device)).toMatchObject({ boundTo: { name: 'teammate' }, method: 'enrollment_token' });
    const refused = await admin.send('POST', ADMIN_API.tokens, { label: 'x', validDays: 1, maxUses: 1, userId: ids.foreign });
    expect(refused.status).toBe(400);
    expect((await errorOf(refused)).fields?.[0]?.path).toBe('userId');
  });

  it("a withdrawal stands against another person's grant, and a decision made under someone else's binding; the person's own later grant undoes it", async () => {
    const a = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, await tokenFor(ids.employee), 'emp');
    expect((await a.consent(['app_usage'])).status).toBe(201);
    expect((await personDetail(ids.employee)).status).toBe(200);
    expect((await a.consent([], 'withdrawn')).status).toBe(201);
    expect((await personDetail(ids.employee)).status).toBe(403);

    // Another person's device grants later: not the employee's decision.
    const b = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, await tokenFor(ids.teammate), 'emp');
    expect((await b.consent(['app_usage'])).status).toBe(201);
    expect((await personDetail(ids.employee)).status).toBe(403);
    // IT hands that device to the employee: the teammate's grant on it still is not theirs.
    expect((await admin.send('POST', ADMIN_API.assignDevice.replace(':deviceId', b.deviceId), { userId: ids.employee })).status).toBe(200);
    expect((await personDetail(ids.employee)).status).toBe(403);
    const held = IngestResult.parse(await (await b.ingest(makeSpans(1, { from: Date.now() + 5 }))).json());
    expect(held.rejected.map((r) => r.reason)).toEqual(['no_consent']);

    // The employee's own later grant, on either of their devices, is their latest decision.
    expect((await b.consent(['app_usage'])).status).toBe(201);
    expect((await personDetail(ids.employee)).status).toBe(200);
  });

  it('a grant made on a computer wrongly bound to me stops counting once I disown it', async () => {
    const a = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, await tokenFor(ids.employee), 'emp');
    expect((await a.consent(['app_usage'])).status).toBe(201);
    expect((await a.consent([], 'withdrawn')).status).toBe(201);
    expect((await personDetail(ids.employee)).status).toBe(403);
    // IT assigns the wrong computer to the employee, and whoever sits at it grants.
    const wrong = await fleetDevice('someone-else');
    expect((await admin.send('POST', ADMIN_API.assignDevice.replace(':deviceId', wrong.deviceId), { userId: ids.employee })).status).toBe(200);
    expect((await wrong.consent(['app_usage'])).status).toBe(201);
    expect((await personDetail(ids.employee)).status).toBe(200);
    expect((await employee.send('POST', MY_DEVICES.disown.replace(':deviceId', wrong.deviceId))).status).toBe(204);
    expect((await personDetail(ids.employee)).status).toBe(403);
  });

  it('"this is not my computer" unbinds a device of mine, and only of mine', async () => {
    const laptop = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, await tokenFor(ids.employee), 'emp');
    const teammate = await bed.as('teammate');
    const path = MY_DEVICES.disown.replace(':deviceId', laptop.deviceId);
    expect((await teammate.send('POST', path)).status).toBe(404);
    expect((await bindingOf(laptop)).boundTo?.name).toBe('employee');
    expect((await employee.send('POST', path)).status).toBe(204);
    expect((await bindingOf(laptop)).boundTo).toBeNull();
    expect((await bed.cloud.fetchPath('/v1/me/spans', { headers: bearer(laptop) })).status).toBe(403);
    expect(await audited('device.unbound', laptop.deviceId)).toEqual([{ actor_id: ids.employee, subject_user_ids: [ids.employee] }]);
  });
});
