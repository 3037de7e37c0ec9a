/**
 * An ActivityWatch export imported with the real bundled agent, synced to the real cloud
 * (PGlite; PostgreSQL too when TEST_DATABASE_URL is set): the imported spans arrive by the
 * normal path under the import's own consent, and the server's rules hold (no title without its
 * scope, no overlap with what the agent captured itself, a re-import adds nothing). A month of
 * history from before the device enrolled comes in, rolls up, goes out again in ActivityWatch's
 * shape, and is erased when its consent is withdrawn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { testDatabaseKinds } from '../../cloud/test/support/database';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import { portOfAgent } from '../../desktop-agent/src/ui/agent-port';
import { createAgentHandlers } from '../../desktop-agent/src/ui/handlers';
import { IpcRefusal } from '../../desktop-agent/src/ui/dispatch';
import { printWithdrawal } from '../../desktop-agent/src/cli/activitywatch';
import { inProcessAgent } from '../helpers/agent-in-process';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');
const event = (start: number, ms: number, data: Record<string, unknown>) => ({ timestamp: iso(start), duration: ms / 1000, data });

/** An export in aw-server's shape, its events placed around the moment `t` the consent took effect. */
function awExport(t: number) {
  const bucket = (id: string, type: string, events: unknown[]) => ({
    id,
    name: null,
    type,
    client: type === 'afkstatus' ? 'aw-watcher-afk' : 'aw-watcher-window',
    hostname: 'ada-laptop',
    created: iso(t - 86_400_000),
    data: {},
    events,
  });
  return {
    buckets: {
      'aw-watcher-window_ada-laptop': bucket('aw-watcher-window_ada-laptop', 'currentwindow', [
        event(t - 2000, 3000, { app: 'Editor', title: 'plan.md' }),
        event(t + 1000, 1500, { app: 'Mail', title: 'secret inbox' }),
        event(t + 2500, 1500, { app: 'Editor', title: 'plan.md' }),
      ]),
      'aw-watcher-afk_ada-laptop': bucket('aw-watcher-afk_ada-laptop', 'afkstatus', [
        event(t - 2000, 4000, { status: 'not-afk' }),
        event(t + 2000, 500, { status: 'afk' }),
        event(t + 2500, 1500, { status: 'not-afk' }),
      ]),
      'aw-watcher-web-chrome_ada-laptop': bucket('aw-watcher-web-chrome_ada-laptop', 'web.tab.current', [
        event(t + 1000, 1500, { url: 'https://mail.example/', title: 'secret inbox', audible: false, incognito: false }),
      ]),
    },
  };
}

for (const kind of testDatabaseKinds()) {
  describe(`ActivityWatch import <-> cloud on ${kind}`, () => {
    let cloud: TestCloud;
    let home: AgentHome;
    let bundle: Awaited<ReturnType<typeof agentBundle>>;

    beforeAll(async () => {
      [cloud, bundle] = await Promise.all([startTestCloud(kind), agentBundle()]);
      home = agentHome(bundle.file, process.env, { ICARUS_CAPTURE_BACKEND: 'get-windows', ICARUS_SYNC_INTERVAL_MS: '1000' });
    });
    afterAll(async () => {
      home?.cleanup();
      bundle?.remove();
      await cloud?.stopAll();
    });

    it('imports only what the server may keep, and the spans arrive by the normal sync', { timeout: 90_000 }, async () => {
      const enrolled = await home.cli(['enroll', '--server', cloud.url, '--token', (await cloud.personToken('Ada')).token]);
      expect(enrolled.code, enrolled.stderr).toBe(0);
      const file = join(home.dataDir, '..', 'aw-export.json');

      // Before a decision nothing is imported.
      writeFileSync(file, JSON.stringify(awExport(Date.now())));
      const early = await home.cli(['import-activitywatch', file]);
      expect(early.code).toBe(1);
      expect(early.stderr).toMatch(/no consent decision yet/);

      const consent = await home.cli(['consent'], 'y\ny\n');
      expect(consent.code, consent.stderr).toBe(0);
      expect(consent.stdout).toMatch(/granted: app_usage, idle/);
      let store = AgentStore.open(home.dataDir);
      const t = store.state.get('consent')?.effectiveFromMs ?? 0;
      const deviceId = store.state.device()?.deviceId ?? '';
      // A span the agent captured itself, inside the exported time: the import leaves it alone.
      const captured = { id: uuidv7(), start: t + 3000, durationMs: 500, app: 'Terminal' };
      store.spans.insert([captured], Date.now());
      store.close();
      await new Promise((r) => setTimeout(r, Math.max(0, t + 4500 - Date.now())));

      writeFileSync(file, JSON.stringify(awExport(t)));
      // Declined at the preview: nothing stored, no consent recorded.
      const declined = await home.cli(['import-activitywatch', file], 'n\n');
      expect(declined.code).toBe(1);
      expect(declined.stdout).toMatch(/This import uploads to your organisation/);
      expect(declined.stdout).toMatch(/nothing imported; no consent was recorded/);
      const imported = await home.cli(['import-activitywatch', file], 'y\n');
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(/time: +5 s active, 1 s idle, in 5 spans/);
      expect(imported.stdout).toMatch(/titles: +not included/);
      expect(imported.stdout).toMatch(/scopes: +app_usage \(.*\), idle \(/);
      expect(imported.stdout).toMatch(/in 1 event: already covered by spans on this device/);
      expect(imported.stdout).toMatch(/in 1 event: not a window or afk bucket/);
      expect(imported.stdout).toMatch(/in 1 event: away from keyboard/);
      expect(imported.stdout).toMatch(/imported 5 spans; they are sent with the next sync/);
      const again = await home.cli(['import-activitywatch', file], 'y\n');
      expect(again.stdout).toMatch(/nothing imported; no consent was asked/);

      store = AgentStore.open(home.dataDir);
      const local = store.spans.everything();
      store.close();
      // The time before the live consent comes too: the import's own consent covers it.
      expect(local.map((s) => [s.start - t, s.durationMs, s.idle ? 'idle' : s.app])).toEqual([
        [-2000, 3000, 'Editor'],
        [1000, 1000, 'Mail'],
        [2000, 500, 'idle'],
        [2500, 500, 'Editor'],
        [3000, 500, 'Terminal'],
        [3500, 500, 'Editor'],
      ]);
      // window_titles is not a scope of this policy: no title is kept.
      expect(local.every((s) => s.title === undefined)).toBe(true);

      const agent = home.start();
      await agent.waitFor(/sync: sent \d+ spans/);
      expect(await agent.stop('SIGTERM')).toBe(0);
      store = AgentStore.open(home.dataDir);
      const after = store.spans.everything();
      store.close();
      expect(after.filter((s) => s.rejectedReason !== null)).toEqual([]);
      const rows = await cloud.database.rows<{ id: string; start_ms: number; duration_ms: number; titled: boolean }>(
        sql`select id::text as id, (extract(epoch from start) * 1000)::bigint::float8 as start_ms, duration_ms, title_enc is not null as titled from spans where device_id = ${deviceId}`,
      );
      const imports = local.filter((s) => s.id !== captured.id);
      expect(rows.map((r) => r.id).sort()).toEqual(expect.arrayContaining(imports.map((s) => s.id).sort()));
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const s of local) expect([byId.get(s.id)?.start_ms, byId.get(s.id)?.duration_ms]).toEqual([s.start, s.durationMs]);
      expect(rows.some((r) => r.titled)).toBe(false);

      // And out again, in the buckets shape aw-server imports.
      const exported = await home.cli(['export', '--format', 'activitywatch']);
      expect(exported.code, exported.stderr).toBe(0);
      const buckets = Object.values(
        (JSON.parse(exported.stdout) as { buckets: Record<string, { type: string; events: { data: Record<string, unknown> }[] }> }).buckets,
      );
      expect(buckets.map((b) => b.type).sort()).toEqual(['afkstatus', 'currentwindow']);
      const windows = buckets.find((b) => b.type === 'currentwindow')?.events ?? [];
      expect(windows.map((e) => e.data.app)).toEqual(after.filter((s) => !s.idle).map((s) => s.app));
      expect(buckets.find((b) => b.type === 'afkstatus')?.events.filter((e) => e.data.status === 'afk')).toHaveLength(after.filter((s) => s.idle).length);
    });

    it(
      'brings a month of history from before enrollment under its own consent, rolls it up, gives it back, and erases it on withdrawal',
      { timeout: 120_000 },
      async () => {
        const bea = agentHome(bundle.file, process.env, { ICARUS_CAPTURE_BACKEND: 'get-windows', ICARUS_SYNC_INTERVAL_MS: '1000' });
        try {
          const person = await cloud.personToken('Bea');
          expect((await bea.cli(['enroll', '--server', cloud.url, '--token', person.token])).code).toBe(0);
          expect((await bea.cli(['consent'], 'y\ny\n')).code).toBe(0);
          const deviceId = (() => {
            const s = AgentStore.open(bea.dataDir);
            const id = s.state.device()?.deviceId ?? '';
            s.close();
            return id;
          })();
          // 29 working mornings before today, and one far older than the organisation keeps (90 days).
          const midnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
          const windows: unknown[] = [];
          const afk: unknown[] = [];
          for (let d = 1; d <= 29; d++) {
            const nine = midnight - d * DAY + 9 * HOUR;
            windows.push(event(nine, 30 * MIN, { app: 'Editor', title: 'plan.md' }), event(nine + 30 * MIN, 30 * MIN, { app: 'Mail', title: 'inbox' }));
            afk.push(event(nine, HOUR, { status: 'not-afk' }), event(nine + HOUR, 10 * MIN, { status: 'afk' }));
          }
          windows.push(event(midnight - 100 * DAY, 30 * MIN, { app: 'Editor', title: 'old.md' }));
          const file = join(bea.dataDir, '..', 'month.json');
          const bucket = (id: string, type: string, events: unknown[]) => ({
            id,
            name: null,
            type,
            client: 'aw',
            hostname: 'bea',
            created: iso(midnight),
            data: {},
            events,
          });
          writeFileSync(
            file,
            JSON.stringify({
              buckets: {
                'aw-watcher-window_bea': bucket('aw-watcher-window_bea', 'currentwindow', windows),
                'aw-watcher-afk_bea': bucket('aw-watcher-afk_bea', 'afkstatus', afk),
              },
            }),
          );

          const imported = await bea.cli(['import-activitywatch', file], 'y\n');
          expect(imported.code, imported.stderr).toBe(0);
          expect(imported.stdout).toMatch(/time: +29\.0 h active, 4\.8 h idle, in 87 spans/);
          expect(imported.stdout).toMatch(/apps: +2\n/);
          expect(imported.stdout).toMatch(/30 min in 1 event: older than your organisation keeps history \(its retention\)/);
          expect(imported.stdout).toMatch(/history before \d{4}-\d\d-\d\d is not stored: your organisation keeps 90 days/);
          const grantId = /import consent ([0-9a-f-]{36}) recorded/.exec(imported.stdout)?.[1] ?? '';
          expect(grantId).not.toBe('');
          expect(imported.stdout).toMatch(/receipt signature: verified/);
          expect(imported.stdout).toMatch(/imported 87 spans/);

          const agent = bea.start();
          await agent.waitFor(/sync: sent 87 spans/, 30_000);
          expect(await agent.stop('SIGTERM')).toBe(0);
          const stored = async () =>
            cloud.database.rows<{ n: number; grants: number }>(
              sql`select count(*)::int as n, count(distinct import_grant_id)::int as grants from spans where device_id = ${deviceId}`,
            );
          expect(await stored()).toEqual([{ n: 87, grants: 1 }]);
          await cloud.cloud.services.analytics.flush();
          const day = new Date(midnight - 20 * DAY).toISOString().slice(0, 10);
          const rolled = async () =>
            Number(
              (
                await cloud.database.rows<{ ms: number | null }>(
                  sql`select sum(active_ms)::float8 as ms from rollup_user_daily where user_id = ${person.userId} and day = ${day}::date`,
                )
              )[0]?.ms ?? 0,
            );
          expect(await rolled()).toBe(HOUR);

          // Given back in ActivityWatch's shape: the same window events, the afk time as afk.
          const exported = await bea.cli(['export', '--format', 'activitywatch']);
          const buckets = Object.values(
            (
              JSON.parse(exported.stdout) as {
                buckets: Record<string, { type: string; events: { timestamp: string; duration: number; data: Record<string, unknown> }[] }>;
              }
            ).buckets,
          );
          const back = buckets.find((b) => b.type === 'currentwindow')?.events ?? [];
          expect(back.map((e) => [Date.parse(e.timestamp), e.duration, e.data.app])).toEqual(
            (windows.slice(0, -1) as { timestamp: string; duration: number; data: { app: string } }[])
              .map((e) => [Date.parse(e.timestamp), e.duration, e.data.app])
              .sort((a, b) => Number(a[0]) - Number(b[0])),
          );
          expect(buckets.find((b) => b.type === 'afkstatus')?.events.filter((e) => e.data.status === 'afk')).toHaveLength(29);

          // A second import stores nothing new and asks no new consent.
          const again = await bea.cli(['import-activitywatch', file], 'y\n');
          expect(again.stdout).toMatch(/nothing imported; no consent was asked/);
          expect(await stored()).toEqual([{ n: 87, grants: 1 }]);
          expect(await cloud.database.rows(sql`select id from import_grants where device_id = ${deviceId}`)).toHaveLength(1);

          const listed = await bea.cli(['imports']);
          expect(listed.stdout).toContain(`${grantId}  activitywatch`);
          expect(listed.stdout).toMatch(/87 spans, 29\.0 h active {2}\(in force\)/);

          // Withdrawn: erased on the server and here, and that day's rollups follow.
          const withdrawn = await bea.cli(['withdraw-import', grantId]);
          expect(withdrawn.code, withdrawn.stderr).toBe(0);
          expect(withdrawn.stdout).toMatch(/erased 87 spans on the server \(its reports follow\) and 87 on this device/);
          expect(await stored()).toEqual([{ n: 0, grants: 0 }]);
          await cloud.cloud.services.analytics.flush();
          expect(await rolled()).toBe(0);
          expect((await bea.cli(['imports'])).stdout).toMatch(/withdrawn .*, history erased/);
        } finally {
          bea.cleanup();
        }
      },
    );

    it('the screens show the same preview, grant only what was shown, list and withdraw', { timeout: 60_000 }, async () => {
      const person = await cloud.personToken('Cleo');
      const cleo = await inProcessAgent(cloud.url, person.token, 'cleo');
      try {
        await cleo.agent.consent.fetchPolicy();
        await cleo.agent.binding.refresh();
        const handlers = createAgentHandlers(portOfAgent(cleo.agent, { clock: { now: () => Date.now() }, osUser: 'cleo', agentVersion: 'test' }));
        const yesterday = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - DAY + 9 * HOUR;
        const file = join(cleo.dir, 'aw.json');
        const windows = [
          event(yesterday, 20 * MIN, { app: 'Editor', title: 'plan.md' }),
          event(yesterday + 20 * MIN, 10 * MIN, { app: 'Mail', title: 'inbox' }),
        ];
        const write = (events: unknown[]) =>
          writeFileSync(file, JSON.stringify({ buckets: { w: { id: 'w', type: 'currentwindow', hostname: 'cleo', events } } }));
        write(windows);
        // No decision on this computer yet: the screen names the scopes to import.
        await expect(handlers['imports:preview']({ path: file })).rejects.toThrow(/no consent decision yet/);
        const plan = await handlers['imports:preview']({ path: file, scopes: ['app_usage'] });
        expect(plan).toMatchObject({ preview: { spans: 2, activeMs: 30 * MIN, idleMs: 0, apps: 2, titles: false }, scopes: ['app_usage'], retentionDays: 90 });
        expect(cleo.store.spans.everything()).toEqual([]);
        // The file changed after the person read the preview: shown again, nothing granted.
        write([...windows, event(yesterday + HOUR, 10 * MIN, { app: 'Terminal' })]);
        const changed = handlers['imports:grant']({ path: file, scopes: ['app_usage'], shown: plan.preview });
        await expect(changed).rejects.toBeInstanceOf(IpcRefusal);
        await expect(changed).rejects.toThrow(/reads differently from what you were shown/);
        expect(await cloud.database.rows(sql`select id from import_grants where device_id = ${cleo.device.deviceId}`)).toEqual([]);
        write(windows);
        const granted = await handlers['imports:grant']({ path: file, scopes: ['app_usage'], shown: plan.preview });
        expect(granted).toMatchObject({ verified: true, stored: 2, grant: { scopes: ['app_usage'], from: plan.from, to: plan.to } });
        expect(granted.receipt.payload).toMatchObject({ collectionMethod: 'tray-dialog', importedHistory: { grantId: granted.grant.id } });
        expect((await handlers['imports:list']({})).grants.map((g) => g.id)).toEqual([granted.grant.id]);
        const withdrawn = await handlers['imports:withdraw']({ id: granted.grant.id });
        // Not sent yet: nothing on the server to erase, both spans gone here.
        expect(withdrawn).toMatchObject({ erasedOnServer: 0, erasedHere: 2 });
        expect(cleo.store.spans.everything()).toEqual([]);
      } finally {
        await cleo.close();
      }
    });

    /**
     * A person's in-process agent (syncing every half second) that imported two spans of yesterday
     * under an app_usage grant through its screens, not yet sent; closed once `work` is done.
     */
    async function withYesterdayImported(
      name: string,
      work: (on: {
        person: Awaited<ReturnType<typeof cloud.personToken>>;
        agent: Awaited<ReturnType<typeof inProcessAgent>>;
        handlers: ReturnType<typeof createAgentHandlers>;
        grant: { id: string };
        yesterday: number;
      }) => Promise<void>,
    ): Promise<void> {
      const person = await cloud.personToken(name);
      const osUser = name.toLowerCase();
      const agent = await inProcessAgent(cloud.url, person.token, osUser, { syncIntervalMs: 500, heartbeatIntervalMs: 1000 });
      try {
        await agent.agent.consent.fetchPolicy();
        await agent.agent.binding.refresh();
        const handlers = createAgentHandlers(portOfAgent(agent.agent, { clock: { now: () => Date.now() }, osUser, agentVersion: 'test' }));
        const yesterday = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - DAY + 9 * HOUR;
        const file = join(agent.dir, 'aw.json');
        const events = [event(yesterday, 20 * MIN, { app: 'Editor' }), event(yesterday + 20 * MIN, 10 * MIN, { app: 'Mail' })];
        writeFileSync(file, JSON.stringify({ buckets: { w: { id: 'w', type: 'currentwindow', hostname: osUser, events } } }));
        const plan = await handlers['imports:preview']({ path: file, scopes: ['app_usage'] });
        const { grant } = await handlers['imports:grant']({ path: file, scopes: ['app_usage'], shown: plan.preview });
        await work({ person, agent, handlers, grant, yesterday });
      } finally {
        await agent.close();
      }
    }

    it('an import withdrawn on the web is erased from the computer at its next sync, which says so', { timeout: 60_000 }, () =>
      withYesterdayImported('Dora', async ({ person, agent: dora, grant, yesterday }) => {
        // A span the person keeps, not part of the import: it stays when the import goes.
        const own = { id: uuidv7(), start: yesterday + 2 * HOUR, durationMs: 1000, app: 'Terminal' };
        dora.store.spans.insert([own], Date.now());
        const onServer = async () => (await cloud.database.rows(sql`select id from spans where import_grant_id = ${grant.id}`)).length;

        await dora.agent.start();
        await dora.waitForLog(/sync: sent \d+ spans/);
        expect(await onServer()).toBe(2);
        expect(dora.store.spans.everything().filter((s) => s.importGrantId === grant.id)).toHaveLength(2);

        // Withdrawn from My data on the web, while the computer is running.
        const done = await cloud.cloud.services.rights.withdrawImport(
          { orgId: dora.device.orgId, userId: person.userId, via: 'web', actorType: 'user', actorId: person.userId },
          grant.id,
        );
        expect(done.erasedSpans).toBe(2);
        expect(await onServer()).toBe(0);
        await dora.waitForLog(new RegExp(`import ${grant.id} withdrawn \\(you withdrew this import on the web\\): erased 2 spans on this device`));
        expect(dora.store.spans.everything().map((s) => s.id)).toEqual([own.id]);
        const said = dora.store.state.get('messages')?.find((m) => m.id === `import-withdrawn-${grant.id}`);
        expect(said?.text).toMatch(/was withdrawn \(you withdrew this import on the web\): its 2 records were erased from this computer/);
        // The screens list it as withdrawn without asking the server again.
        expect(dora.agent.imports.known().find((g) => g.id === grant.id)?.withdrawnAt).not.toBeNull();
        // Delivered once: a second web withdrawal of the same import queues nothing new.
        await cloud.cloud.services.rights.withdrawImport(
          { orgId: dora.device.orgId, userId: person.userId, via: 'web', actorType: 'user', actorId: person.userId },
          grant.id,
        );
        expect(
          await cloud.database.rows(
            sql`select id from device_directives where device_id = ${dora.device.deviceId} and directive->>'type' = 'import_withdrawn'`,
          ),
        ).toHaveLength(1);
      }),
    );

    it('a computer revoked since its import erases its own copy when the person withdraws there, and says the server was not told', { timeout: 60_000 }, () =>
      withYesterdayImported('Esme', async ({ person, agent: esme, handlers, grant }) => {
        await esme.agent.start();
        await esme.waitForLog(/sync: sent \d+ spans/);
        // IT revokes the computer; it learns so at its next sync and stops.
        await cloud.cloud.services.devices.revoke(esme.device.deviceId, esme.device.orgId, person.userId);
        await esme.waitForLog(/this device was revoked by your organisation/);

        const withdrawn = await handlers['imports:withdraw']({ id: grant.id });
        expect(withdrawn).toMatchObject({ erasedOnServer: null, erasedHere: 2 });
        expect(esme.store.spans.everything().filter((s) => s.importGrantId === grant.id)).toEqual([]);
        // The server heard nothing: its copy and the consent stand, for the person to withdraw on the web.
        expect(await cloud.database.rows(sql`select id from spans where import_grant_id = ${grant.id}`)).toHaveLength(2);
        expect(
          (await cloud.database.rows<{ w: string | null }>(sql`select withdrawn_at::text as w from import_grants where id = ${grant.id}`))[0]?.w,
        ).toBeNull();
        let said = '';
        printWithdrawal(await esme.agent.imports.withdraw(grant.id), (text) => (said += text));
        expect(said).toMatch(/erased 0 spans of import .* on this device\n  this device was revoked, so the server could not be told/);
      }),
    );
  });
}
