import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../../start';
import { addPeople, noonDaysAgo, record } from '../../../test/support/activity';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { startLocalS3, type LocalS3 } from '../../../test/support/s3-server';
import { defaultPolicy } from '../consent';
import { exportRunsInline, type ExportJobView } from '.';

const day = (d: Date) => d.toISOString().slice(0, 10);

/** An org of six people with two days of activity, managers allowed to see individuals. */
async function seed(bed: AdminTestbed) {
  const { cloud, orgA } = bed;
  await cloud.cloud.services.consent.publish(orgA.orgId, { ...defaultPolicy('Export org'), managersSeeIndividuals: true }, { type: 'system', id: 'test' });
  const people = await addPeople(cloud, { teamId: orgA.teamId, orgId: orgA.orgId, count: 6, consentFrom: noonDaysAgo(3) });
  await record(cloud, people, [
    { at: noonDaysAgo(2), ms: 900_000, app: 'Code' },
    { at: noonDaysAgo(1), ms: 600_000, app: 'Slack, "team"' },
  ]);
  return { from: day(noonDaysAgo(2)), to: day(noonDaysAgo(0)) };
}

async function text(response: Response, path: string): Promise<string> {
  expect(response.status, `${path}: ${response.status}`).toBe(200);
  return response.text();
}

async function untilDone(read: () => Promise<ExportJobView>): Promise<ExportJobView> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const job = await read();
    if (job.state === 'done' || job.state === 'failed' || Date.now() > deadline) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('which exports stay inline', () => {
  it('one team over at most 31 days; the whole org or a longer range is a job', () => {
    const teamId = '0190a0a0-0000-7000-8000-000000000000';
    expect(exportRunsInline({ teamId, level: 'team' })).toBe(true);
    expect(exportRunsInline({ teamId, from: '2026-01-01', to: '2026-01-31', level: 'person' })).toBe(true);
    expect(exportRunsInline({ teamId, from: '2026-01-01', to: '2026-02-01', level: 'team' })).toBe(false);
    expect(exportRunsInline({ from: '2026-01-01', to: '2026-01-02', level: 'person' })).toBe(false);
  });
});

describe.each(testDatabaseKinds())('export jobs on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let range: { from: string; to: string };
  let s3: LocalS3;

  beforeAll(async () => {
    // These jobs write to S3 (s3rver on loopback); the kill -9 test below uses the filesystem default.
    s3 = await startLocalS3('icarus-exports');
    const env = {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    };
    bed = await startAdminTestbed(kind, `exports-${kind}`, env);
    admin = await bed.as('admin');
    range = await seed(bed);
  }, 180_000);
  afterAll(async () => {
    await bed?.stop();
    await s3?.stop();
  });

  async function requested(caller: Caller, body: Record<string, unknown>): Promise<ExportJobView> {
    const response = await caller.send('POST', '/api/reports/exports', body);
    expect(response.status).toBe(202);
    return (await response.json()) as ExportJobView;
  }

  it('the org export runs as a job, audited when asked and when downloaded, and its file is what the inline export gives', async () => {
    expect(bed.cloud.cloud.objects.kind).toBe('s3');
    // The same export the request would have streamed, made by the same code in this process.
    const inline = await inlineCsv(bed, range);
    expect(inline.split('\r\n').length).toBeGreaterThan(6);

    const job = await requested(admin, { level: 'person', from: range.from, to: range.to });
    expect(job).toMatchObject({ state: 'queued', downloadUrl: null });
    // The worker role of this cloud picks it up.
    const done = await untilDone(async () => (await (await admin.get(`/api/reports/exports/${job.id}`)).json()) as ExportJobView);
    expect(done.state).toBe('done');
    expect(done.downloadUrl).toBe(`/api/reports/exports/${job.id}/download`);
    expect(done.bytes).toBe(Buffer.byteLength(inline));
    expect(Date.parse(done.expiresAt ?? '') - Date.parse(done.completedAt ?? '')).toBe(24 * 3_600_000);
    const listed = (await (await admin.get('/api/reports/exports')).json()) as { exports: ExportJobView[] };
    expect(listed.exports.map((e) => e.id)).toContain(job.id);

    const response = await admin.get(done.downloadUrl ?? '');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toContain(`organisation-${range.from}-to-${range.to}-person.csv`);
    expect(await text(response, 'download')).toBe(inline);
    expect((await bed.cloud.cloud.objects.list(`exports/${bed.orgA.orgId}/`)).map((o) => o.key)).toContain(`exports/${bed.orgA.orgId}/${job.id}.csv`);

    const actions = await bed.cloud.database.rows<{ action: string; details: { exportId?: string } }>(
      sql`select action, details from audit_log where org_id = ${bed.orgA.orgId} and actor_id = ${bed.orgA.people.admin.id} order by seq`,
    );
    const ofJob = actions.filter((a) => (typeof a.details === 'string' ? (JSON.parse(a.details) as { exportId?: string }) : a.details).exportId === job.id);
    expect(ofJob.map((a) => a.action)).toEqual(['report.export.requested', 'report.export.downloaded']);
    // The read itself is audited with its subjects when the worker runs it, as the inline export is.
    expect(actions.filter((a) => a.action === 'report.csv.exported').length).toBeGreaterThanOrEqual(2);
  });

  it('answers only small exports inside the request, and says where to ask for the others', async () => {
    const team = `/api/reports/export.csv?teamId=${bed.orgA.teamId}&level=person&from=${range.from}&to=${range.to}`;
    expect((await text(await admin.get(team), team)).startsWith('day,person,email,')).toBe(true);
    const org = await admin.get(`/api/reports/export.csv?level=person&from=${range.from}&to=${range.to}`);
    expect(org.status).toBe(409);
    expect(JSON.stringify(await org.json())).toContain('POST /api/reports/exports');
    const long = await admin.get(`/api/reports/export.csv?teamId=${bed.orgA.teamId}&level=team&from=2026-01-01&to=2026-02-15`);
    expect(long.status).toBe(409);
    // A manager is refused the org export for their role, not sent elsewhere.
    const manager = await bed.as('manager');
    expect((await manager.get(`/api/reports/export.csv?level=person&from=${range.from}&to=${range.to}`)).status).toBe(403);
  });

  it('no one but the requester sees or downloads the export: not another admin of the org, nor an admin of another org', async () => {
    const asked = await requested(admin, { level: 'person', from: range.from, to: range.to });
    const user = await signedIn(bed, 'admin');
    const job = await untilDone(() => bed.cloud.cloud.services.exportJobs.status(user, asked.id));
    expect(job.state).toBe('done');
    const other = await bed.as('admin', bed.orgB);
    const manager = await bed.as('manager');
    for (const caller of [other, manager]) {
      expect((await caller.get(`/api/reports/exports/${job.id}`)).status).toBe(404);
      const refused = await caller.get(`/api/reports/exports/${job.id}/download`);
      expect(refused.status).toBe(404);
      expect(await refused.text()).not.toContain('Code');
      const listed = (await (await caller.get('/api/reports/exports')).json()) as { exports: ExportJobView[] };
      expect(listed.exports.map((e) => e.id)).not.toContain(job.id);
    }
    // A manager may not ask for the whole org; the refusal names why and stores nothing.
    const before = await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from export_jobs`);
    const refused = await manager.send('POST', '/api/reports/exports', { level: 'person', from: range.from, to: range.to });
    expect(refused.status).toBe(403);
    const badLevel = await admin.send('POST', '/api/reports/exports', { level: 'team', from: range.from, to: range.to });
    expect(badLevel.status).toBe(400);
    expect(JSON.stringify(await badLevel.json())).toContain('teamId');
    expect(await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from export_jobs`)).toEqual(before);
  });

  it('an expired link is refused, and the scheduler job removes its file', async () => {
    const asked = await requested(admin, { level: 'person', from: range.from, to: range.to });
    const user = await signedIn(bed, 'admin');
    const done = await untilDone(() => bed.cloud.cloud.services.exportJobs.status(user, asked.id));
    expect(done.state).toBe('done');
    const key = `exports/${bed.orgA.orgId}/${asked.id}.csv`;
    expect(await bed.cloud.cloud.objects.head(key)).toBeDefined();
    await bed.cloud.database.rows(sql`update export_jobs set expires_at = now() - interval '1 second' where id = ${asked.id}`);
    const refused = await admin.get(`/api/reports/exports/${asked.id}/download`);
    expect(refused.status).toBe(404);
    expect(JSON.stringify(await refused.json())).toContain('expired');
    expect(((await (await admin.get(`/api/reports/exports/${asked.id}`)).json()) as ExportJobView).downloadUrl).toBeNull();

    expect(await bed.cloud.cloud.services.exportJobs.removeExpired()).toBeGreaterThanOrEqual(1);
    expect(await bed.cloud.cloud.objects.head(key)).toBeUndefined();
    expect(((await (await admin.get(`/api/reports/exports/${asked.id}`)).json()) as ExportJobView).state).toBe('expired');
    expect((await admin.get(`/api/reports/exports/${asked.id}/download`)).status).toBe(404);
  });
});

/** The org's per-person CSV as the inline export code writes it. */
async function inlineCsv(bed: AdminTestbed, range: { from: string; to: string }): Promise<string> {
  const { body } = await bed.cloud.cloud.services.exportCsv(await signedIn(bed, 'admin'), { level: 'person', ...range });
  return new Response(body).text();
}

/** The testbed person as the services see them signed in. */
async function signedIn(bed: AdminTestbed, person: 'admin') {
  const who = bed.orgA.people[person];
  const [row] = await bed.cloud.database.rows<{ id: string; email: string; name: string; role: 'admin'; team_id: string | null }>(
    sql`select id, email, name, role, team_id from users where id = ${who.id}`,
  );
  if (!row) throw new Error('the testbed admin is missing');
  return { userId: row.id, orgId: bed.orgA.orgId, email: row.email, name: row.name, role: row.role, managedTeamIds: [], teamId: row.team_id, sessionId: '' };
}

const serverDir = new URL('../../', import.meta.url).pathname;

/**
 * A worker killed with SIGKILL while it holds a job does not lose it: the job stays `running`
 * under a lease in the database, and once the lease runs out another worker claims it again and
 * writes the same file.
 */
describe.each(testDatabaseKinds())('an export job after kill -9 on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let range: { from: string; to: string };
  // On disk, so the processes after this one open the same database (PGlite: one at a time).
  const dataDir = mkdtempSync(join(tmpdir(), 'icarus-export-kill-'));
  const env = () => ({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    ...(bed.cloud.testDb.databaseUrl ? { DATABASE_URL: bed.cloud.testDb.databaseUrl } : {}),
  });

  beforeAll(async () => {
    // No worker role: the job waits for the workers this test starts and kills.
    bed = await startAdminTestbed(kind, `exports-kill-${kind}`, { ROLES: 'api', DATA_DIR: dataDir });
    admin = await bed.as('admin');
    range = await seed(bed);
  }, 180_000);
  afterAll(async () => {
    await bed?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A worker process that claims one job (lease `leaseMs`), says so, and then works on it forever. */
  async function claimingWorker(leaseMs: number): Promise<{ child: ChildProcess; claimed: string }> {
    const script = `
      const { startCloud } = await import(${JSON.stringify(`${serverDir}start.ts`)});
      const running = await startCloud({ env: ${JSON.stringify({ ...env(), ROLES: 'api', DEMO_SEED: 'false' })}, silent: true });
      const job = await running.cloud.services.exportJobs.claim(${leaseMs});
      console.log('claimed ' + (job ? job.id : 'nothing'));
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 90_000;
    for (;;) {
      const claimed = /claimed (\S+)/.exec(output)?.[1];
      if (claimed) return { child, claimed };
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the worker did not claim:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('keeps the job of a worker killed mid-job, and a worker after the lease writes the same file', async () => {
    const inline = await inlineCsv(bed, range);
    const job = await requested();
    await bed.cloud.close();

    const leaseMs = 3_000;
    const worker = await claimingWorker(leaseMs);
    expect(worker.claimed).toBe(job.id);
    const exited = new Promise((resolve) => worker.child.once('exit', resolve));
    worker.child.kill('SIGKILL');
    await exited;

    const again: RunningCloud = await startCloud({ env: { ...env(), ROLES: 'api', DEMO_SEED: 'false' }, silent: true });
    try {
      const jobs = again.cloud.services.exportJobs;
      expect(again.cloud.objects.kind).toBe('filesystem');
      const [held] = await again.database.rows<{ state: string; attempts: number }>(sql`select state, attempts from export_jobs where id = ${job.id}`);
      expect(held).toEqual({ state: 'running', attempts: 1 });
      // Once the dead worker's lease has run out, the job is claimed again and finished.
      await new Promise((r) => setTimeout(r, leaseMs + 200));
      expect(await jobs.runDue()).toBe(1);
      const [row] = await again.database.rows<{ state: string; attempts: number }>(sql`select state, attempts from export_jobs where id = ${job.id}`);
      expect(row).toEqual({ state: 'done', attempts: 2 });
      const path = `/api/reports/exports/${job.id}/download`;
      expect(await text(await fetch(`${again.url}${path}`, { headers: admin.headers }), path)).toBe(inline);
    } finally {
      await again.close();
    }
  }, 180_000);

  async function requested(): Promise<ExportJobView> {
    const response = await admin.send('POST', '/api/reports/exports', { level: 'person', from: range.from, to: range.to });
    expect(response.status).toBe(202);
    return (await response.json()) as ExportJobView;
  }
});
