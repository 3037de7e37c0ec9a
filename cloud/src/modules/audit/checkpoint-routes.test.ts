import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import type { ComplianceReport } from '../compliance';
import type { ChainVerification } from './service';

/**
 * Checkpoints as an auditor meets them: the compliance report and the audit export carry a
 * signed checkpoint, the public key that verifies it is published, and verification against a
 * kept checkpoint (API and page) reports rows deleted or re-chained since, even when the
 * checkpoints in the database were deleted along with them.
 */
describe.each(testDatabaseKinds())('audit checkpoints over HTTP on %s', (kind) => {
  let bed: AdminTestbed;
  let auditor: Caller;
  let orgId: string;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `checkpoints-${kind}`);
    auditor = await bed.as('auditor');
    orgId = bed.orgA.orgId;
  }, 120_000);
  afterAll(async () => bed?.stop());

  const behindItsBack = async (change: ReturnType<typeof sql>) => {
    await bed.cloud.database.rows(sql`alter table audit_log disable trigger user`);
    await bed.cloud.database.rows(sql`alter table audit_checkpoints disable trigger user`);
    try {
      await bed.cloud.database.rows(change);
    } finally {
      await bed.cloud.database.rows(sql`alter table audit_log enable trigger user`);
      await bed.cloud.database.rows(sql`alter table audit_checkpoints enable trigger user`);
    }
  };
  const verify = async (checkpoint?: string) => {
    const response = checkpoint === undefined ? await auditor.get('/api/audit/verify') : await auditor.send('POST', '/api/audit/verify', { checkpoint });
    return { status: response.status, body: (await response.json()) as ChainVerification & { error?: { fields: { path: string }[] } } };
  };

  it('puts a checkpoint in the compliance report that the published key verifies', async () => {
    const report = (await (await auditor.get('/api/compliance/report')).json()) as ComplianceReport;
    expect(report.checkpoint).toMatchObject({ org: orgId, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(report.checkpointKeys).toBe('/v1/audit-keys');
    expect(report.chain).toMatchObject({ sinceCheckpoint: { ok: true, problems: [] }, verifyPath: '/audit/verify' });
    // The key is public: a verifier outside needs no account.
    const keys = await (await bed.cloud.fetchPath('/v1/audit-keys')).json();
    const { payload, protectedHeader } = await compactVerify(report.checkpoint?.jws ?? '', createLocalJWKSet(keys as Parameters<typeof createLocalJWKSet>[0]));
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'audit-checkpoint+jws' });
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ org: orgId, seq: report.checkpoint?.seq, size: report.checkpoint?.size });
    const csv = await (await auditor.get('/api/compliance/report.csv')).text();
    const rows = parse(csv, { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
    expect(rows.find((r) => r.section === 'audit_checkpoint')).toMatchObject({
      jws: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      checkpoint_keys: '/v1/audit-keys',
    });
  });

  it('starts the audit export with the checkpoint of the chain as exported', async () => {
    const csv = await (await auditor.get('/api/audit/export.csv')).text();
    const [, first = ''] = csv.split('\r\n');
    expect(first).toMatch(/^\d+,[^,]+,system,[0-9a-f]{16},audit\.checkpoint,,"\{""size"":\d+,""jws"":""[\w-]+\.[\w-]+\.[\w-]+""\}",[0-9a-f]{64}$/);
  });

  it('finds the newest rows deleted, with the stored checkpoints, against the checkpoint the auditor kept', async () => {
    const kept = ((await (await auditor.get('/api/compliance/report')).json()) as ComplianceReport).checkpoint;
    if (!kept) throw new Error('a checkpoint expected');
    const before = await verify(kept.jws);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ ok: true, problems: [] });
    expect(before.body.checkpoints.map((c) => c.source)).toContain('supplied');

    // The superuser removes the entries from the kept checkpoint on, and every checkpoint with them.
    await behindItsBack(sql`delete from audit_log where org_id = ${orgId} and seq >= ${kept.seq}`);
    await behindItsBack(sql`delete from audit_checkpoints where org_id = ${orgId}`);
    const after = await verify(kept.jws);
    expect(after.body.ok).toBe(false);
    expect(after.body.problems).toEqual([{ kind: 'truncated', checkpointSeq: kept.seq, lastSeq: expect.any(Number) }]);

    const page = await auditor.get(`/audit/verify?checkpoint=${encodeURIComponent(kept.jws)}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Audit chain BROKEN');
    // Entries were written since (the verification above is one): the kept entry is gone with later ones after it.
    expect(html).toContain(`re-chained: entry ${kept.seq}, which a checkpoint signed, is gone while later entries remain`);
  });

  it('refuses a checkpoint that is not one of ours with a 400 naming checkpoint, on the API and the page', async () => {
    const bad = await verify('eyJhbGciOiJFZERTQSJ9.e30.AAAA');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.fields.map((f) => f.path)).toEqual(['checkpoint']);
    expect((await auditor.send('POST', '/api/audit/verify', {})).status).toBe(400);
    const page = await auditor.get('/audit/verify?checkpoint=nonsense');
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('not an audit checkpoint');
  });
});
