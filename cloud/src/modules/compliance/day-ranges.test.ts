import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, ALL_SCOPES, ApiError, daysBetween, DEFAULT_RANGE_DAYS } from '@icarus/shared';
import { AUDIT_API } from '../audit';
import { REPORT_PATHS } from '../reporting';
import { COMPLIANCE_API } from './routes';
import { testDatabaseKinds } from '../../../test/support/database';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';

const errorOf = async (res: Response) => {
  expect(res.status).toBe(400);
  return ApiError.parse(await res.json()).error;
};

/** Every day range the reports and the compliance report accept follows one rule and one default. */
describe.each(testDatabaseKinds())('day ranges of reports and the compliance report on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let teamSummary: (query: string) => Promise<Response>;
  const auditRows = async () => (await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_log`))[0]?.n;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `ranges-${kind}`);
    admin = await bed.as('admin');
    teamSummary = (query) => admin.get(`${REPORT_PATHS.teamSummary}?teamId=${bed.orgA.teamId}&${query}`);
  });
  afterAll(async () => bed?.stop());

  const refusals: [string, string, string][] = [
    ['an impossible day', 'from=2026-02-30&to=2026-03-05', 'is not a real date'],
    ['an impossible end day', 'from=2026-04-01&to=2026-04-31', 'is not a real date'],
    ['a day that is not YYYY-MM-DD', 'from=2026-3-1', 'must be a date YYYY-MM-DD'],
    ['a reversed range', 'from=2026-03-02&to=2026-03-01', 'from must not be after to'],
    ['a range of 367 days', 'from=2024-01-01&to=2025-01-01', 'a range spans at most 366 days'],
  ];

  it.each(refusals)('the reports API refuses %s with a 400 naming the field, and records no view', async (_name, query, problem) => {
    const before = await auditRows();
    const error = await errorOf(await teamSummary(query));
    expect(error.fields).toEqual([{ path: query.includes('to=2026-04-31') ? 'to' : 'from', problem }]);
    expect(await auditRows()).toBe(before);
  });

  it.each(refusals)('the compliance report refuses %s the same way, and records no view', async (_name, query, problem) => {
    const before = await auditRows();
    const error = await errorOf(await admin.get(`${COMPLIANCE_API.report}?${query}`));
    expect(error.fields).toEqual([{ path: query.includes('to=2026-04-31') ? 'to' : 'from', problem }]);
    expect(await auditRows()).toBe(before);
  });

  it('the audit viewer refuses an impossible day, and still takes a real one or a date-time', async () => {
    const auditor = await bed.as('auditor');
    expect((await errorOf(await auditor.get(`${AUDIT_API.events}?from=2026-02-30`))).fields).toEqual([
      { path: 'from', problem: 'must be a date (YYYY-MM-DD) or an ISO date-time' },
    ]);
    expect((await errorOf(await auditor.get(`${AUDIT_API.exportCsv}?to=2025-04-31`))).fields?.map((f) => f.path)).toEqual(['to']);
    expect((await auditor.get(`${AUDIT_API.events}?from=2024-02-29&to=2026-03-01T12:00:00Z`)).status).toBe(200);
  });

  it('refuses an open range reaching back more than 366 days from today, naming from', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const error = await errorOf(await admin.get(`${COMPLIANCE_API.report}?from=${addDays(today, -366)}`));
    expect(error.fields).toEqual([{ path: 'from', problem: 'range of 367 days' }]);
  });

  it('both open with the same default: the four weeks up to today', async () => {
    const summary = (await (await teamSummary('')).json()) as { range: { from: string; to: string; days: number } };
    expect(summary.range.days).toBe(DEFAULT_RANGE_DAYS);
    expect(summary.range.from).toBe(addDays(summary.range.to, -(DEFAULT_RANGE_DAYS - 1)));

    const today = new Date().toISOString().slice(0, 10);
    const report = (await (await admin.get(COMPLIANCE_API.report)).json()) as { period: { from: string; to: string } };
    expect(report.period).toEqual({ from: addDays(today, -(DEFAULT_RANGE_DAYS - 1)), to: today });
    expect(daysBetween(report.period.from, report.period.to)).toBe(DEFAULT_RANGE_DAYS);
  });

  it('accepts a leap day and a whole leap year', async () => {
    expect((await teamSummary('from=2024-02-29&to=2024-02-29')).status).toBe(200);
    const report = await admin.get(`${COMPLIANCE_API.report}?from=2024-01-01&to=2024-12-31`);
    expect(report.status).toBe(200);
  });

  it('lists a consent-coverage column for every scope, in the CSV and on the page', async () => {
    // One table: the header names a coverage column per scope, and each team's coverage row fills them all.
    const csv = await (await admin.get(COMPLIANCE_API.reportCsv)).text();
    const [header = '', ...rows] = csv.split('\r\n').map((line) => line.split(','));
    const coverage = [
      'team',
      'policy_version',
      'people',
      'granted',
      'declined',
      'withdrawn',
      'no_decision',
      'pending_reconsent',
      ...ALL_SCOPES.map((s) => `granted_${s}`),
    ];
    const at = coverage.map((c) => header.indexOf(c));
    expect(at.every((i) => i >= 0)).toBe(true);
    const row = rows.find((r) => r[0] === 'consent_coverage') ?? [];
    expect(row).toHaveLength(header.length);
    // A count in every count column, one per scope included (policy_version is empty while nobody decided).
    const counts = at.filter((_, k) => coverage[k] !== 'team' && coverage[k] !== 'policy_version').map((i) => row[i] ?? '');
    expect(counts.every((v) => /^\d+$/.test(v))).toBe(true);
    const page = await (await admin.get('/audit/compliance')).text();
    expect(page).toContain(`<th>Pending re-consent</th>${ALL_SCOPES.map((s) => `<th>${s}</th>`).join('')}</tr>`);
  });
});
