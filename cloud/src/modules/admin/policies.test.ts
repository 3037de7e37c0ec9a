import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, IngestResult, type PolicyContent } from '@icarus/shared';
import { defaultPolicy } from '../consent';
import { PolicyDiff } from '../consent';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, makeSpans } from '../../../test/support/device-client';
import { ADMIN_API } from './api';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';

const at = (path: string, version: number) => path.replace(':version', String(version));
const errorOf = async (res: Response) => ApiError.parse(await res.json()).error;

function wider(base: PolicyContent, change: Partial<PolicyContent> = {}): PolicyContent {
  return {
    ...base,
    scopes: [...base.scopes, { scope: 'window_titles', purpose: 'Which document or site, to categorize time.', legalBasis: 'consent' }],
    ...change,
  };
}

describe.each(testDatabaseKinds())('policy versions on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  /** A works-council member who is not an admin: the second person on every version the admin drafts. */
  let council: Caller;
  const base = defaultPolicy('Org');

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `pol-${kind}`);
    admin = await bed.as('admin');
    await bed.cloud.database.rows(sql`update users set works_council = true where id = ${bed.orgA.people.teammate.id}`);
    council = await bed.as('teammate');
  });
  afterAll(async () => bed?.stop());

  /** Draft, submit, approve, publish as the org A admin; returns the version. */
  async function release(content: PolicyContent, approvers: Caller[] = [council]): Promise<number> {
    const created = await admin.send('POST', ADMIN_API.policies, content);
    expect(created.status, await created.clone().text()).toBe(201);
    const { version } = (await created.json()) as { version: number };
    expect((await admin.send('POST', at(ADMIN_API.submit, version))).status).toBe(200);
    for (const a of approvers) expect((await a.send('POST', at(ADMIN_API.approve, version))).status).toBe(200);
    const published = await admin.send('POST', at(ADMIN_API.publish, version));
    expect(published.status, await published.clone().text()).toBe(200);
    return version;
  }

  /** Publishes the open version (made different from the one in force if need be), so the next test can draft. */
  async function publishOpen(): Promise<void> {
    const open = ((await (await admin.get(ADMIN_API.policies)).json()) as { version: number; state: string }[]).find(
      (p) => p.state !== 'published' && p.state !== 'retired',
    );
    if (!open) return;
    const { version } = open;
    if (open.state === 'in_review') await admin.send('POST', at(ADMIN_API.reopen, version));
    const current = await bed.cloud.cloud.services.consent.currentPolicy(bed.orgA.orgId);
    await admin.send('PUT', at(ADMIN_API.policy, version), { ...current.content, retentionDays: current.content.retentionDays + 1 });
    expect((await admin.send('POST', at(ADMIN_API.submit, version))).status).toBe(200);
    expect((await council.send('POST', at(ADMIN_API.approve, version))).status).toBe(200);
    expect((await admin.send('POST', at(ADMIN_API.publish, version))).status).toBe(200);
  }

  it('refuses an invalid policy naming the field: bad regex, retention of 0 days', async () => {
    const badRegex = await admin.send('POST', ADMIN_API.policies, {
      ...base,
      titleMode: 'redacted',
      redactionRules: [{ pattern: '(unclosed', replacement: 'x' }],
    });
    expect(badRegex.status).toBe(400);
    expect((await errorOf(badRegex)).fields?.map((f) => f.path)).toContain('redactionRules.0.pattern');
    const noRetention = await admin.send('POST', ADMIN_API.policies, { ...base, retentionDays: 0 });
    expect((await errorOf(noRetention)).fields?.map((f) => f.path)).toContain('retentionDays');
    const list = (await (await admin.get(ADMIN_API.policies)).json()) as { state: string }[];
    expect(list.map((p) => p.state)).toEqual(['published']);
  });

  it('goes draft -> review -> approved -> published, one open version at a time, every step audited', async () => {
    const created = await admin.send('POST', ADMIN_API.policies, base);
    const { version } = (await created.json()) as { version: number };
    expect((await admin.send('POST', ADMIN_API.policies, base)).status).toBe(409);
    const edited = await admin.send('PUT', at(ADMIN_API.policy, version), { ...base, retentionDays: 60 });
    expect(edited.status).toBe(200);
    expect((await admin.send('POST', at(ADMIN_API.publish, version))).status).toBe(409);
    expect((await admin.send('POST', at(ADMIN_API.submit, version))).status).toBe(200);
    expect((await admin.send('PUT', at(ADMIN_API.policy, version), base)).status).toBe(409);
    const early = await admin.send('POST', at(ADMIN_API.publish, version));
    expect(early.status).toBe(409);
    expect((await errorOf(early)).fields?.[0]?.path).toBe('approvals');
    // The admin wrote it: their own approval is refused, and someone else's is needed.
    const own = await admin.send('POST', at(ADMIN_API.approve, version));
    expect(own.status).toBe(403);
    expect((await errorOf(own)).message).toMatch(/you cannot approve it/);
    const approved = await council.send('POST', at(ADMIN_API.approve, version));
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ approvals: [{ name: 'teammate', asWorksCouncil: true }], missingApprovals: [] });
    const published = await admin.send('POST', at(ADMIN_API.publish, version));
    expect(published.status).toBe(200);
    expect(await published.json()).toMatchObject({ state: 'published', content: { retentionDays: 60 } });
    expect((await bed.cloud.cloud.services.consent.currentPolicy(bed.orgA.orgId)).version).toBe(version);
    const actions = await bed.cloud.database.rows<{ action: string }>(
      sql`select action from audit_log where org_id = ${bed.orgA.orgId} and action like 'policy.%' order by seq`,
    );
    expect(actions.map((a) => a.action)).toEqual([
      'policy.published',
      'policy.draft_created',
      'policy.draft_updated',
      'policy.submitted',
      'policy.approved',
      'policy.published',
    ]);
    const versions = (await (await admin.get(ADMIN_API.policies)).json()) as { version: number; state: string }[];
    expect(versions.filter((p) => p.state === 'published').map((p) => p.version)).toEqual([version]);
  });

  it('with works-council approval on, publishes only after a council member approves; the drafter and other reviewers cannot stand in', async () => {
    const { orgA } = bed;
    await bed.cloud.database.rows(sql`update orgs set works_council_required = true where id = ${orgA.orgId}`);
    // The admin is on the council too: still the author, so their approval never counts.
    await bed.cloud.database.rows(sql`update users set works_council = true where id = ${orgA.people.admin.id}`);
    try {
      const employee = await bed.as('employee');
      const manager = await bed.as('manager');
      const { version } = (await (await admin.send('POST', ADMIN_API.policies, { ...base, retentionDays: 45 })).json()) as { version: number };
      expect((await admin.send('POST', at(ADMIN_API.submit, version))).status).toBe(200);
      expect((await employee.send('POST', at(ADMIN_API.approve, version))).status).toBe(403);
      expect((await employee.get(at(ADMIN_API.policy, version))).status).toBe(403);
      expect((await manager.get(ADMIN_API.policies)).status).toBe(403);
      expect((await admin.send('POST', at(ADMIN_API.approve, version))).status).toBe(403);
      const early = await admin.send('POST', at(ADMIN_API.publish, version));
      expect(early.status).toBe(409);
      expect((await errorOf(early)).message).toMatch(/works-council member who did not write this version/);
      // The council member, not an admin, reads the version and approves it; publishing stays the admin's.
      expect((await council.get(ADMIN_API.policies)).status).toBe(200);
      expect((await council.get(at(ADMIN_API.policy, version))).status).toBe(200);
      expect((await council.send('POST', at(ADMIN_API.publish, version))).status).toBe(403);
      expect((await council.send('POST', at(ADMIN_API.submit, version))).status).toBe(403);
      expect((await council.send('POST', at(ADMIN_API.approve, version))).status).toBe(200);
      const published = await admin.send('POST', at(ADMIN_API.publish, version));
      expect(published.status, await published.clone().text()).toBe(200);
      const body = (await published.json()) as { approvals: { userId: string; name: string }[]; authors: { name: string }[]; hash: string };
      expect(body.approvals.map((a) => [a.userId, a.name])).toEqual([[orgA.people.teammate.id, 'teammate']]);
      expect(body.authors.map((a) => a.name)).toEqual(['admin']);
      expect((await bed.cloud.cloud.services.consent.currentPolicy(orgA.orgId)).hash).toBe(body.hash);
    } finally {
      await bed.cloud.database.rows(sql`update orgs set works_council_required = false where id = ${orgA.orgId}`);
      await bed.cloud.database.rows(sql`update users set works_council = false where id = ${orgA.people.admin.id}`);
    }
  });

  it('only admins edit a draft; its authors are kept by name, and reopening drops the approvals', async () => {
    const { version } = (await (await admin.send('POST', ADMIN_API.policies, { ...base, retentionDays: 40 })).json()) as { version: number };
    // Only admins edit; a council member's edit is refused, so the admin stays the one author.
    expect((await council.send('PUT', at(ADMIN_API.policy, version), { ...base, retentionDays: 41 })).status).toBe(403);
    expect((await admin.send('PUT', at(ADMIN_API.policy, version), { ...base, retentionDays: 42 })).status).toBe(200);
    const view = (await (await admin.get(at(ADMIN_API.policy, version))).json()) as { authors: { name: string }[] };
    expect(view.authors.map((a) => a.name)).toEqual(['admin']);
    await admin.send('POST', at(ADMIN_API.submit, version));
    await admin.send('POST', at(ADMIN_API.reopen, version));
    expect(await (await admin.get(at(ADMIN_API.policy, version))).json()).toMatchObject({ state: 'draft', approvals: [] });
    await publishOpen();
  });

  it('"nothing changed" is refused at submit with a clear message, and nothing is published', async () => {
    const current = await bed.cloud.cloud.services.consent.currentPolicy(bed.orgA.orgId);
    const created = await admin.send('POST', ADMIN_API.policies, current.content);
    expect(created.status).toBe(201);
    const n = ((await created.json()) as { version: number }).version;
    const view = await (await admin.get(at(ADMIN_API.policy, n))).json();
    expect(view).toMatchObject({ nothingChanged: true, diff: { changes: [] } });
    const refused = await admin.send('POST', at(ADMIN_API.submit, n));
    expect(refused.status).toBe(409);
    expect((await errorOf(refused)).message).toBe(`Nothing changed from v${current.version}: there is nothing to publish. Change the draft first.`);
    expect(await (await admin.get(at(ADMIN_API.policy, n))).json()).toMatchObject({ state: 'draft' });
    expect((await bed.cloud.cloud.services.consent.currentPolicy(bed.orgA.orgId)).version).toBe(current.version);
    const published = await bed.cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from audit_log where org_id = ${bed.orgA.orgId} and action = 'policy.published' and details->>'version' = ${String(n)}`,
    );
    expect(published[0]?.n).toBe(0);
    // A real change makes it submittable again.
    expect((await admin.send('PUT', at(ADMIN_API.policy, n), { ...current.content, retentionDays: current.content.retentionDays + 1 })).status).toBe(200);
    expect((await admin.send('POST', at(ADMIN_API.submit, n))).status).toBe(200);
    await publishOpen();
  });

  it('the version tells the admin when the purpose reads differently from who sees what', async () => {
    const content = { ...base, purpose: 'Reports show team aggregates.', managersSeeIndividuals: true };
    const view = (await (await admin.send('POST', ADMIN_API.policies, content)).json()) as { conflicts: { field: string; problem: string }[] };
    expect(view.conflicts).toEqual([{ field: 'purpose', problem: expect.stringContaining('only team totals') }]);
    const fixed = (await (
      await admin.send('PUT', at(ADMIN_API.policy, (view as unknown as { version: number }).version), { ...content, purpose: 'Time per app.' })
    ).json()) as {
      conflicts: unknown[];
    };
    expect(fixed.conflicts).toEqual([]);
    await publishOpen();
  });

  it('a widening version stops the new scope server-side until the person decides, and the device can read the diff', async () => {
    const { cloud, orgA } = bed;
    const tokens = await admin.send('POST', ADMIN_API.tokens, { label: 'laptops', validDays: 1, maxUses: 5, userId: orgA.people.employee.id });
    const { token } = (await tokens.json()) as { token: string };
    const device = await createTestDevice(cloud.fetchPath, cloud.url, token, 'emp-a');
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
    const decidedOn = await device.policyVersion();

    const version = await release(wider(base));
    const titled = makeSpans(2, { title: 'Budget.xlsx', from: Date.now() + 5 });
    const refused = IngestResult.parse(await (await device.ingest(titled)).json());
    expect(refused.rejected.map((r) => r.reason)).toEqual(['no_consent', 'no_consent']);
    expect(refused.directives).toContainEqual({ type: 'policy_changed', policyVersion: version, scopesNeedingConsent: ['window_titles'] });

    const diffRes = await cloud.fetchPath(`/v1/policy/diff?from=${decidedOn}`, { headers: { authorization: `Bearer ${device.accessToken}` } });
    const diff = PolicyDiff.parse(await diffRes.json());
    expect(diff).toMatchObject({ fromVersion: decidedOn, toVersion: version, widens: true, widenedScopes: ['window_titles'] });
    expect(diff.changes.find((c) => c.field === 'scopes.window_titles')?.widens).toBe(true);
    expect((await cloud.fetchPath('/v1/policy/diff?from=abc', { headers: { authorization: `Bearer ${device.accessToken}` } })).status).toBe(400);
    expect((await cloud.fetchPath('/v1/policy/diff?from=1')).status).toBe(401);

    expect((await device.consent(['app_usage', 'idle', 'window_titles'])).status).toBe(201);
    const accepted = IngestResult.parse(await (await device.ingest(makeSpans(1, { title: 'Budget.xlsx', from: Date.now() + 5 }))).json());
    expect(accepted).toMatchObject({ accepted: 1, rejected: [] });
    expect(accepted.directives.filter((d) => d.type === 'policy_changed')).toEqual([]);

    // Titles hashed -> full widens a scope already granted: held from publication until decided again.
    const fuller = await release(wider(base, { titleMode: 'full' }));
    const held = IngestResult.parse(
      await (await device.ingest([...makeSpans(1, { title: 'Budget.xlsx', from: Date.now() + 5 }), ...makeSpans(1, { from: Date.now() + 1000 })])).json(),
    );
    expect(held.accepted).toBe(1);
    expect(held.rejected.map((r) => r.reason)).toEqual(['no_consent']);
    expect(held.directives).toContainEqual({ type: 'policy_changed', policyVersion: fuller, scopesNeedingConsent: ['window_titles'] });

    const history = await admin.get(ADMIN_API.consentHistory.replace(':userId', orgA.people.employee.id));
    const records = ((await history.json()) as { records: { decision: string; policyVersion: number; supersededAt: string | null }[] }).records;
    expect(records.map((r) => [r.decision, r.policyVersion])).toEqual([
      ['granted', decidedOn],
      ['granted', version],
    ]);
    expect(records[0]?.supersededAt).not.toBeNull();
  });

  it('no admin action reaches another org: versions, history', async () => {
    const other = await bed.as('admin', bed.orgB);
    const { version } = (await (await admin.send('POST', ADMIN_API.policies, base)).json()) as { version: number };
    // Org B has only version 1: org A's open draft number is not found there.
    for (const path of [ADMIN_API.policy, ADMIN_API.submit, ADMIN_API.approve, ADMIN_API.publish]) {
      const res = path === ADMIN_API.policy ? await other.get(at(path, version)) : await other.send('POST', at(path, version));
      expect(res.status, path).toBe(404);
    }
    expect((await other.send('PUT', at(ADMIN_API.policy, version), base)).status).toBe(404);
    expect((await other.get(ADMIN_API.consentHistory.replace(':userId', bed.orgA.people.employee.id))).status).toBe(404);
    const theirs = (await (await other.get(ADMIN_API.policies)).json()) as { version: number }[];
    expect(theirs.map((p) => p.version)).toEqual([1]);
    const mine = await admin.get(at(ADMIN_API.policy, version));
    expect(await mine.json()).toMatchObject({ state: 'draft' });
  });
});
