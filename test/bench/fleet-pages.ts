// Time to first byte of the fleet, audit and compliance pages at 10,000 devices (bound, with their
// consent decisions) and 100,000 audit rows, beside a
// plain `select 1` round trip on the same database. A real cloud over HTTP on loopback, signed in as
// an admin; each page asked BENCH_ROUNDS times after one warm-up, median reported.
//
//   npx tsx test/bench/fleet-pages.ts                       # PGlite
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx test/bench/fleet-pages.ts postgres
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { hashAuditRow } from '../../cloud/src/modules/audit/chain';
import type { Database } from '../../cloud/src/platform/db/client';
import { startAdminTestbed } from '../../cloud/test/support/admin';
import type { TestDatabaseKind } from '../../cloud/test/support/database';
import { median } from './stats';

const DEVICES = 10_000;
const AUDIT_ROWS = 100_000;
const PEOPLE = 1_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
/** Audit entries written after the last checkpoint (an hour of sign-ins in a busy org). */
const AFTER_CHECKPOINT = 200;
const KEY = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' });

/** The measurement, as Markdown lines for docs/BENCHMARKS.md (run.ts) or the terminal. */
export async function benchFleetPages(kind: TestDatabaseKind): Promise<string[]> {
  const bed = await startAdminTestbed(kind, `bench-${kind}`);
  const { database } = bed.cloud;
  const orgId = bed.orgA.orgId;
  const started = performance.now();

  // People: a directory of 1,000 besides the test org's six.
  await database.rows(sql`
    insert into users (id, org_id, email, name, role, team_id)
    select gen_random_uuid(), ${orgId}::uuid, 'person' || i || '@bench.example', 'Person ' || i, 'employee', ${bed.orgA.teamId}::uuid
    from generate_series(1, ${PEOPLE}) as i`);
  // Devices: one in ten on an older agent, one in fifty silent, one in a hundred dropping spans.
  await database.rows(sql`
    insert into devices (id, org_id, user_id, enrollment_token_id, name, platform, os_user, public_key_jwk, agent_version, status, enrolled_at, last_seen_at)
    select gen_random_uuid(), ${orgId}::uuid, p.id, gen_random_uuid(), 'laptop-' || lpad(i::text, 5, '0'),
      (array['win32','darwin','linux'])[1 + i % 3], 'user' || i, ${KEY}::jsonb,
      case when i % 10 = 0 then '0.9.0' else '0.10.0' end,
      jsonb_build_object('agentVersion', case when i % 10 = 0 then '0.9.0' else '0.10.0' end, 'pendingSpans', i % 7,
        'droppedSpans', case when i % 100 = 0 then 5 else 0 end, 'captureSources', '[{"name":"x11","ok":true}]'::jsonb),
      now() - interval '90 days' + i * interval '10 minutes',
      case when i % 50 = 0 then now() - interval '3 days' else now() - interval '2 minutes' end
    from generate_series(1, ${DEVICES}) as i
    left join lateral (select id from users where org_id = ${orgId}::uuid and email = 'person' || (1 + i % ${PEOPLE}) || '@bench.example') p on true`);
  // Each device bound to its person, and consent as a year of use leaves it: an earlier decision
  // superseded by the one in force, one device in ten undecided, one in twenty declined, one in
  // twenty withdrawn. Receipts of a real receipt's size: the compliance report must not read them.
  await database.rows(sql`
    insert into device_bindings (id, org_id, device_id, user_id, method, bound_at)
    select gen_random_uuid(), org_id, id, user_id, 'enrollment_token', enrolled_at from devices where org_id = ${orgId}::uuid and user_id is not null`);
  await database.rows(sql`update devices d set binding_id = b.id from device_bindings b where b.device_id = d.id and d.org_id = ${orgId}::uuid`);
  await database.rows(sql`
    with policy as (select version, hash from policies where org_id = ${orgId}::uuid and state = 'published' order by version desc limit 1),
    seeded as (select d.*, substr(d.name, 8)::int as i from devices d where d.org_id = ${orgId}::uuid and d.binding_id is not null)
    insert into consent_records (id, org_id, device_id, user_id, binding_id, policy_version, policy_hash, decision, requested_scopes, granted, method, effective_at, superseded_at, receipt_jws)
    select gen_random_uuid(), d.org_id, d.id, d.user_id, d.binding_id, p.version, p.hash, r.decision, '["app_usage","idle","window_titles"]'::jsonb, r.granted, 'terminal',
      d.enrolled_at + r.after, case when r.current then null else d.enrolled_at + interval '1 day' end, repeat('x', 1200)
    from seeded d, policy p, lateral (values
      ('granted', '["app_usage"]'::jsonb, interval '1 minute', false),
      (case when d.i % 20 = 1 then 'declined' when d.i % 20 = 2 then 'withdrawn' else 'granted' end,
       case when d.i % 20 in (1, 2) then '[]'::jsonb else '["app_usage","idle"]'::jsonb end, interval '1 day', true)
    ) as r(decision, granted, after, current)
    where d.i % 10 <> 0`);
  // Audit rows: sign-ins, device syncs, one-person views and, one in a hundred, a report view naming 980 people.
  // Inserted with filler hashes, then chained for real below: the admin home verifies the chain.
  const [head] = await database.rows<{ seq: number; hash: string }>(
    sql`select seq::int as seq, hash from audit_log where org_id = ${orgId} order by seq desc limit 1`,
  );
  await database.rows(sql`
    with people as (select array_agg(id::text order by email) as ids from users where org_id = ${orgId}::uuid and email like '%@bench.example')
    insert into audit_log (id, org_id, at, actor_type, actor_id, action, subject_user_ids, details, prev_hash, hash)
    select gen_random_uuid(), ${orgId}::uuid, date_trunc('milliseconds', now()) - interval '60 days' + i * interval '50 seconds',
      case when i % 3 = 0 then 'device' else 'user' end,
      case when i % 3 = 0 then gen_random_uuid()::text else ${bed.orgA.people.manager.id} end,
      case when i % 100 = 0 then 'report.team_summary.viewed' when i % 3 = 0 then 'device.token_issued' when i % 10 = 1 then 'report.person_detail.viewed' else 'auth.sign_in' end,
      case when i % 100 = 0 then to_jsonb(people.ids[1:980]) when i % 10 = 1 then jsonb_build_array(people.ids[1 + i % ${PEOPLE}]) else '[]'::jsonb end,
      case when i % 100 = 0 then '{"from":"2026-10-01","to":"2026-10-31"}'::jsonb else '{}'::jsonb end,
      repeat('0', 64), md5(i::text) || md5(i::text)
    from generate_series(1, ${AUDIT_ROWS}) as i, people`);
  await chainFrom(database, orgId, head?.seq ?? 0, head?.hash ?? '');
  // The hourly job's checkpoint, then what happens in the hour after it: the home walks only that.
  const { audit } = bed.cloud.cloud.services;
  if (!(await audit.checkpoint(orgId)).checkpoint) throw new Error('the seeded chain does not verify');
  for (let i = 0; i < AFTER_CHECKPOINT; i++) {
    await audit.record({ orgId, actorType: 'user', actorId: bed.orgA.people.manager.id, action: 'auth.sign_in', details: {} });
  }
  await database.rows(sql`analyze`);
  const seeded = ((performance.now() - started) / 1000).toFixed(0);

  const admin = await bed.as('admin');
  const auditor = await bed.as('auditor');
  const [mid] = await database.rows<{ seq: number }>(sql`select (min(seq) + max(seq)) / 2 as seq from audit_log where org_id = ${orgId}`);

  async function ttfb(path: string, who = admin): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i <= ROUNDS; i++) {
      const t0 = performance.now();
      const response = await bed.cloud.fetchPath(path, { headers: who.headers });
      const t1 = performance.now();
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${(await response.text()).slice(0, 300)}`);
      await response.arrayBuffer();
      if (i > 0) times.push(t1 - t0);
    }
    return median(times);
  }
  async function roundTrip(): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i <= ROUNDS; i++) {
      const t0 = performance.now();
      await database.rows(sql`select 1`);
      if (i > 0) times.push(performance.now() - t0);
    }
    return median(times);
  }

  const home = await (await bed.cloud.fetchPath('/', { headers: admin.headers })).text();
  if (!home.includes('The audit chain is intact since its last signed checkpoint')) throw new Error('the admin home did not verify the chain');
  const rows: [string, number][] = [
    ['`select 1` round trip', await roundTrip()],
    [`bare Hono server answering the admin home's ${(home.length / 1024).toFixed(0)} KB of HTML (ceiling)`, await bareTtfb(home)],
    [`/ (admin home: devices, consent, policies, audit chain since its checkpoint + ${AFTER_CHECKPOINT} entries)`, await ttfb('/')],
    ['/admin/devices (newest first)', await ttfb('/admin/devices')],
    ['/admin/devices?q=laptop-05120 (search)', await ttfb('/admin/devices?q=laptop-05120')],
    ['/admin/devices?q=Person 512 (owner search)', await ttfb('/admin/devices?q=Person%20512')],
    ['/admin/devices?health=silent', await ttfb('/admin/devices?health=silent')],
    ['/admin/devices?health=outdated&sort=lastSync&page=10', await ttfb('/admin/devices?health=outdated&sort=lastSync&page=10')],
    [
      '/audit/compliance (compliance report: coverage per team and version, chain verified)',
      await ttfb(`/audit/compliance?from=${day(-30)}&to=${day(0)}`, auditor),
    ],
    ['/api/compliance/report (the same as JSON)', await ttfb(`/api/compliance/report?from=${day(-30)}&to=${day(0)}`, auditor)],
    ['/api/reports/consent-coverage (a row per person)', await ttfb('/api/reports/consent-coverage', auditor)],
    ['/admin/working-week', await ttfb('/admin/working-week')],
    ['/audit (newest 50)', await ttfb('/audit', auditor)],
    [`/audit?before=${mid?.seq} (an older page)`, await ttfb(`/audit?before=${mid?.seq}`, auditor)],
    ['/audit?person=person7@bench.example', await ttfb('/audit?person=person7%40bench.example', auditor)],
    ['/audit?action=report.team_summary.viewed', await ttfb('/audit?action=report.team_summary.viewed', auditor)],
    ['/audit?actor=manager&from=…&to=… (a week)', await ttfb(`/audit?actor=manager&from=${day(-30)}&to=${day(-23)}`, auditor)],
  ];
  const html = await (await bed.cloud.fetchPath('/audit', { headers: auditor.headers })).text();
  const fleetHtml = await (await bed.cloud.fetchPath('/admin/devices', { headers: admin.headers })).text();

  await bed.stop();
  return [
    `${kind === 'postgres' ? 'PostgreSQL' : 'PGlite'}: ${DEVICES.toLocaleString('en')} devices, ${AUDIT_ROWS.toLocaleString('en')} audit rows, ${PEOPLE.toLocaleString('en')} people (seeded in ${seeded} s); median of ${ROUNDS} requests each.`,
    '',
    '| request | median TTFB (ms) |',
    '|---|---:|',
    ...rows.map(([name, ms]) => `| ${name} | ${ms.toFixed(1)} |`),
    '',
    `/audit is ${(html.length / 1024).toFixed(0)} KB of HTML, /admin/devices ${(fleetHtml.length / 1024).toFixed(0)} KB.`,
    '',
  ];
}

/**
 * Rewrites prev_hash and hash of the org's rows after `afterSeq` into a real chain continuing
 * from `prevHash`, a page at a time (the rows were inserted by SQL, which cannot hash them).
 */
async function chainFrom(database: Database, orgId: string, afterSeq: number, prevHash: string) {
  let after = afterSeq;
  let prev = prevHash;
  await database.rows(sql`alter table audit_log disable trigger user`);
  for (;;) {
    const page = await database.rows<{
      seq: number;
      id: string;
      at: string | Date;
      actor_type: 'user' | 'device' | 'system';
      actor_id: string;
      action: string;
      subject_user_ids: string[];
      details: Record<string, unknown>;
    }>(sql`select seq::int as seq, id, at, actor_type, actor_id, action, subject_user_ids, details from audit_log
      where org_id = ${orgId} and seq > ${after} order by seq limit 2000`);
    if (page.length === 0) break;
    const values = page.map((r) => {
      const hash = hashAuditRow(prev, {
        id: r.id,
        orgId,
        at: new Date(r.at),
        actorType: r.actor_type,
        actorId: r.actor_id,
        action: r.action,
        subjectUserIds: r.subject_user_ids,
        details: r.details,
      });
      const row = sql`(${r.seq}::bigint, ${prev}, ${hash})`;
      prev = hash;
      return row;
    });
    await database.rows(sql`update audit_log a set prev_hash = v.p, hash = v.h from (values ${sql.join(values, sql`, `)}) as v(seq, p, h) where a.seq = v.seq`);
    after = page[page.length - 1]?.seq ?? after;
  }
  await database.rows(sql`alter table audit_log enable trigger user`);
}

/** The ceiling: the same HTTP stack (Hono on @hono/node-server) answering the same HTML, with no session, query or rendering. */
async function bareTtfb(html: string): Promise<number> {
  const app = new Hono().get('/', (c) => c.html(html));
  const { server, url } = await new Promise<{ server: ServerType; url: string }>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server: s, url: `http://127.0.0.1:${info.port}/` }));
  });
  const times: number[] = [];
  try {
    for (let i = 0; i <= ROUNDS; i++) {
      const t0 = performance.now();
      const response = await fetch(url);
      const t1 = performance.now();
      await response.arrayBuffer();
      if (i > 0) times.push(t1 - t0);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return median(times);
}

function day(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchFleetPages(process.argv[2] === 'postgres' ? 'postgres' : 'pglite').then(
    (lines) => process.stdout.write(`${lines.join('\n')}\n`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
