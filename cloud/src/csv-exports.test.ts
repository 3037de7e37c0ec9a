import { ApiError } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPeople, noonDaysAgo, record, type ActivePerson } from '../test/support/activity';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../test/support/admin';
import { testDatabaseKinds } from '../test/support/database';
import { createTestDevice } from '../test/support/device-client';
import { defaultPolicy } from './modules/consent';

/** Names and an app that a legacy code page would mangle, and an app name that must be quoted. */
const NAMES = ['Zoë Åberg', 'Łukasz Żółć', 'Søren Ørsted', 'İlkay Gündoğan', '渡辺 光'];
const APP = 'Café Ölçü, "beta"';
const LEAVER = 'Ægir Þórsson';

/**
 * Reads a CSV the way RFC 4180 has it: records end CRLF, quotes strictly paired, every record
 * as many fields as the header. Answers the rows as objects keyed by the header.
 */
function strictCsv(text: string): Record<string, string>[] {
  expect(text.endsWith('\r\n')).toBe(true);
  return parse(text, { columns: true, record_delimiter: '\r\n', relax_quotes: false, relax_column_count: false, bom: false }) as Record<string, string>[];
}

async function download(caller: Pick<Caller, 'get'>, path: string): Promise<{ text: string; bom: boolean }> {
  const response = await caller.get(path);
  expect(response.status, `${path}: ${response.status}`).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  const bytes = new Uint8Array(await response.arrayBuffer());
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bom ? bytes.subarray(3) : bytes), bom };
}

describe.each(testDatabaseKinds())('CSV exports on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let auditor: Caller;
  let people: ActivePerson[];
  let range: string;
  let withdrawn: ActivePerson;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `csv-${kind}`);
    const { cloud, orgA } = bed;
    admin = await bed.as('admin');
    auditor = await bed.as('auditor');
    await cloud.cloud.services.consent.publish(orgA.orgId, { ...defaultPolicy('CSV org'), managersSeeIndividuals: true }, { type: 'system', id: 'test' });
    people = await addPeople(cloud, { teamId: orgA.teamId, orgId: orgA.orgId, count: NAMES.length, consentFrom: noonDaysAgo(3) });
    for (const [i, person] of people.entries()) await cloud.database.rows(sql`update users set name = ${NAMES[i] ?? ''} where id = ${person.userId}`);
    await record(cloud, people, [
      { at: noonDaysAgo(1), ms: 600_000, app: APP },
      { at: new Date(noonDaysAgo(1).getTime() + 700_000), ms: 300_000, app: 'Code' },
    ]);
    // A withdrawal, named in the compliance report: someone outside the team, so the team's cells keep everyone.
    const [leaver] = await addPeople(cloud, { teamId: null, orgId: orgA.orgId, count: 1 });
    if (!leaver) throw new Error('a person expected');
    withdrawn = leaver;
    await cloud.database.rows(sql`update users set name = ${LEAVER} where id = ${leaver.userId}`);
    expect((await leaver.device.consent(['app_usage'], 'withdrawn')).status).toBe(201);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    range = `from=${day(noonDaysAgo(2))}&to=${day(noonDaysAgo(0))}`;
  }, 180_000);
  afterAll(async () => bed?.stop());

  it('the team export: one table, CRLF, the non-ASCII app name intact, a BOM only when asked', async () => {
    const path = `/api/reports/export.csv?teamId=${bed.orgA.teamId}&level=team&${range}`;
    const plain = await download(admin, path);
    expect(plain.bom).toBe(false);
    const rows = strictCsv(plain.text);
    expect(rows.find((r) => r.app === APP)).toMatchObject({ people: String(NAMES.length), productivity: expect.any(String) });
    const excel = await download(admin, `${path}&bom=1`);
    expect(excel.bom).toBe(true);
    expect(excel.text).toBe(plain.text);
  });

  it('the per-person export names people as they are written', async () => {
    const { text, bom } = await download(admin, `/api/reports/export.csv?teamId=${bed.orgA.teamId}&level=person&${range}&bom=1`);
    expect(bom).toBe(true);
    const rows = strictCsv(text);
    expect(new Set(rows.map((r) => r.person))).toEqual(new Set(NAMES));
    expect(rows.filter((r) => r.app === APP)).toHaveLength(NAMES.length);
  });

  it('the audit export parses strictly, details JSON and all', async () => {
    for (const query of ['', '?bom=1']) {
      const { text, bom } = await download(auditor, `/api/audit/export.csv${query}`);
      expect(bom).toBe(query !== '');
      const rows = strictCsv(text);
      expect(rows.length).toBeGreaterThan(5);
      expect(rows.some((r) => r.action === 'report.csv.exported')).toBe(true);
      for (const r of rows) expect(() => JSON.parse(r.details ?? '')).not.toThrow();
    }
  });

  it('the compliance report is one table: one header row, a section column, the withdrawal named', async () => {
    const { text, bom } = await download(auditor, `/api/compliance/report.csv?${range}&bom=1`);
    expect(bom).toBe(true);
    const [header = ''] = text.split('\r\n');
    expect(header.startsWith('section,')).toBe(true);
    const rows = strictCsv(text);
    expect(new Set(rows.map((r) => r.section))).toEqual(
      new Set(['report', 'consent_coverage', 'withdrawal', 'personal_data_access', 'audit_chain', 'audit_checkpoint']),
    );
    expect(rows.find((r) => r.section === 'withdrawal')).toMatchObject({ person: LEAVER, device_id: withdrawn.device.deviceId });
    expect(rows.find((r) => r.section === 'audit_chain')?.chain_ok).toBe('yes');
    expect(rows.filter((r) => r.section === 'report')).toHaveLength(1);
  });

  it("a person's own export, from the web and from the agent, with a BOM only for CSV", async () => {
    const { cloud, orgA } = bed;
    const employee = await bed.as('employee');
    const device = await createTestDevice(cloud.fetchPath, cloud.url, await cloud.tokenFor(orgA.people.employee.id, orgA.orgId), 'employee');
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
    await cloud.database.rows(sql`update users set name = ${'Zoë Åberg'} where id = ${orgA.people.employee.id}`);
    const web = await download(employee, '/api/me/export?format=csv&bom=1');
    expect(web.bom).toBe(true);
    expect(Object.keys(strictCsv(`${web.text}`)[0] ?? {})).toEqual([]);
    expect(web.text.split('\r\n')[0]).toBe('id,start,durationMs,app,title,idle,deviceId');

    const agent = { get: (path: string) => cloud.fetchPath(path, { headers: { authorization: `Bearer ${people[1]?.device.accessToken ?? ''}` } }) };
    const own = await download(agent, '/v1/me/export?format=csv');
    expect(own.bom).toBe(false);
    const rows = strictCsv(own.text);
    expect(rows.map((r) => r.app).sort()).toEqual([APP, 'Code'].sort());
    const json = await agent.get('/v1/me/export?format=json&bom=1');
    expect(new Uint8Array(await json.arrayBuffer())[0]).toBe('{'.charCodeAt(0));
  });

  it('refuses a bom other than 0 or 1, naming it', async () => {
    const response = await admin.get(`/api/compliance/report.csv?bom=yes`);
    expect(response.status).toBe(400);
    expect(ApiError.parse(await response.json()).error.fields?.map((f) => f.path)).toEqual(['bom']);
  });
});
