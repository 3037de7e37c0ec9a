import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import type { ComplianceReport } from './report';

/**
 * The compliance report states the audit chain without walking it all on every view: the walk
 * since the newest signed checkpoint done now, and the nightly job's walk of the whole chain as
 * that job recorded it in the log, tampering found by it included.
 */
describe.each(testDatabaseKinds())('the audit chain in the compliance report on %s', (kind) => {
  let bed: AdminTestbed;
  let auditor: Caller;
  let orgId: string;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `chain-statement-${kind}`);
    auditor = await bed.as('auditor');
    orgId = bed.orgA.orgId;
  }, 120_000);
  afterAll(async () => bed?.stop());

  const report = async () => (await (await auditor.get('/api/compliance/report')).json()) as ComplianceReport;
  const page = async () => (await (await auditor.get('/audit/compliance')).text()).replace(/\s+/g, ' ');
  const chainRows = async () =>
    (parse(await (await auditor.get('/api/compliance/report.csv')).text(), { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[]).filter(
      (r) => r.section === 'audit_chain',
    );
  const recorded = async () => (await bed.cloud.cloud.services.audit.search(orgId, { action: 'audit.chain_verified' }, { limit: 10 }))[0];

  it('says the whole chain was never verified yet, and what it walked now since the checkpoint', async () => {
    await report(); // signs a checkpoint: the next view walks from it
    // The statement is the walk since that checkpoint as it stands, and the head it signs is the one walked to.
    const expected = await bed.cloud.cloud.services.audit.verifySinceCheckpoint(orgId);
    const r = await report();
    expect(r.chain.sinceCheckpoint).toEqual(expected);
    expect(r.checkpoint).toMatchObject({ size: expected.entries });
    expect(r.chain.lastFull).toBeNull();
    expect(r.chain.sinceCheckpoint).toMatchObject({ ok: true, problems: [], checkpoint: { seq: expect.any(Number) } });
    expect(r.chain.sinceCheckpoint.walked).toBeLessThan(r.chain.sinceCheckpoint.entries);
    const html = await page();
    expect(html).toMatch(/Audit chain verified now since checkpoint #\d+ \(signed [^)]+\): \d+ entries walked/);
    expect(html).toContain('Whole chain last verified: never yet');
    expect(html).toContain('href="/audit/verify"');
    expect((await chainRows()).map((c) => [c.walk, c.chain_ok])).toEqual([
      ['since_checkpoint', 'yes'],
      ['whole_chain', ''],
    ]);
  });

  it('records the nightly walk of the whole chain as an audit entry, which the report states', async () => {
    const before = await bed.cloud.cloud.services.audit.verify(orgId);
    await bed.cloud.cloud.services.auditJobs.chainVerification();
    const entry = await recorded();
    expect(entry).toMatchObject({ actorType: 'system', details: { ok: true, entries: before.entries, problems: [], problemCount: 0 } });

    const r = await report();
    expect(r.chain.lastFull).toEqual({
      at: entry?.at.toISOString(),
      ok: true,
      entries: before.entries,
      checked: before.entries,
      problems: [],
      problemCount: 0,
    });
    expect(await page()).toContain(`Whole chain last verified ${entry?.at.toISOString()}: OK, ${before.entries} entries.`);
    expect((await chainRows())[1]).toMatchObject({
      walk: 'whole_chain',
      chain_ok: 'yes',
      entries: String(before.entries),
      verified_at: entry?.at.toISOString(),
    });
  });

  it('records an entry changed before the checkpoint, which only the whole walk finds, and the report shows it', async () => {
    const [early] = await bed.cloud.database.rows<{ seq: number }>(
      sql`select seq::int as seq from audit_log where org_id = ${orgId} order by seq limit 1 offset 2`,
    );
    if (!early) throw new Error('entries expected');
    await bed.cloud.database.rows(sql`alter table audit_log disable trigger user`);
    try {
      await bed.cloud.database.rows(sql`update audit_log set details = '{"forged":true}'::jsonb where seq = ${early.seq}`);
    } finally {
      await bed.cloud.database.rows(sql`alter table audit_log enable trigger user`);
    }
    // The walk since the checkpoint starts after the changed entry: the view alone would not see it.
    expect((await report()).chain.sinceCheckpoint.ok).toBe(true);

    await bed.cloud.cloud.services.auditJobs.chainVerification();
    expect((await recorded())?.details).toMatchObject({ ok: false, problems: [{ kind: 'hash_mismatch', seq: early.seq }], problemCount: 1 });
    const r = await report();
    expect(r.chain.lastFull).toMatchObject({ ok: false, problems: [{ kind: 'hash_mismatch', seq: early.seq }] });
    const html = await page();
    expect(html).toMatch(/Whole chain last verified [\dTZ:.-]+: BROKEN after \d+ good entries of \d+, 1 finding/);
    expect(html).toContain(`entry ${early.seq} was changed: its content no longer gives its hash`);
    expect((await chainRows())[1]).toMatchObject({ walk: 'whole_chain', chain_ok: 'no', problems: `hash_mismatch:${early.seq}` });
  });

  it('runs the walk nightly, once across instances, under its own job name', async () => {
    const registered: { name: string; cron: string }[] = [];
    bed.cloud.cloud.services.auditJobs.schedule((jobs) => {
      registered.push(...jobs.map(({ name, cron }) => ({ name, cron })));
      return { stop: async () => {} };
    });
    expect(registered).toContainEqual({ name: 'audit-chain-verification', cron: '50 3 * * *' });
  });
});
