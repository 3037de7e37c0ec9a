/**
 * The headless agent against the real cloud (PGlite; PostgreSQL too when TEST_DATABASE_URL is
 * set), capturing real X windows: enroll, consent at the "terminal", capture, sync, and the
 * server holds exactly the spans the agent recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { testDatabaseKinds } from '../../cloud/test/support/database';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';
import { startXDisplay, xDisplayUnavailableReason, type XDisplay } from '../helpers/xdisplay';

const noX = xDisplayUnavailableReason();
if (noX) console.warn(`skipping agent-cloud e2e: ${noX}`);

for (const kind of testDatabaseKinds()) {
  describe.skipIf(noX !== undefined)(`agent <-> cloud on ${kind}`, () => {
    let cloud: TestCloud;
    let x: XDisplay;
    let home: AgentHome;
    let bundle: Awaited<ReturnType<typeof agentBundle>>;

    beforeAll(async () => {
      [cloud, x, bundle] = await Promise.all([startTestCloud(kind), startXDisplay(), agentBundle()]);
      home = agentHome(bundle.file, x.env, { ICARUS_SAMPLE_INTERVAL_MS: '250', ICARUS_SYNC_INTERVAL_MS: '1000' });
    });
    afterAll(async () => {
      home?.cleanup();
      bundle?.remove();
      await Promise.all([x?.close(), cloud?.stopAll()]);
    });

    it('enrolls, asks consent per scope, captures real windows and syncs exactly them', { timeout: 90_000 }, async () => {
      const enrolled = await home.cli(['enroll', '--server', cloud.url, '--token', cloud.enrollmentToken, '--name', 'e2e-box']);
      expect(enrolled.stderr).toBe('');
      expect(enrolled.stdout).toMatch(/enrolled: device [0-9a-f-]{36}/);
      // The fleet token proves only "a device of this org": the computer records for nobody yet.
      expect(enrolled.stdout).toContain('bound to: nobody yet');
      const refused = await home.cli(['consent'], 'y\ny\n');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/bound to: nobody yet, so nothing is recorded or sent as anyone/);
      expect((await home.cli(['status'])).stdout).toMatch(/capture: nothing: this computer is bound to nobody yet/);

      // The person makes a pairing code in the web app and types it into the agent.
      const { directory, bindings } = cloud.cloud.services;
      const person = await directory.createUser({ orgId: cloud.bootstrap.orgId, email: 'pat@e2e.test', name: 'Pat Person', role: 'employee' });
      const { code } = await bindings.createPairingCode({ orgId: cloud.bootstrap.orgId, userId: person.id });
      const paired = await home.cli(['pair', `${code.slice(0, 4)}-${code.slice(4)}`]);
      expect(paired.code, paired.stderr).toBe(0);
      expect(paired.stdout).toContain('bound to: Pat Person <pat@e2e.test> (by your pairing code)');
      const reused = await home.cli(['pair', code]);
      expect(reused.code).toBe(1);
      expect(reused.stderr).toMatch(/400 validation_failed: Pairing code was already used/);

      const [editor, mail] = await Promise.all([x.openWindow('report.txt = draft', 'Editor'), x.openWindow('Inbox', 'Mail')]);
      await x.setUtf8Title(mail, 'Posteingang — Zürich 東京');
      await x.activate(editor);

      // No flag grants consent: the answers come on standard input, one per scope.
      const consent = await home.cli(['consent'], 'maybe\ny\ny\n');
      expect(consent.code, consent.stderr).toBe(0);
      expect(consent.stdout).toContain('bound to: Pat Person <pat@e2e.test>');
      expect(consent.stdout).toContain('please answer y or n');
      expect(consent.stdout).toContain('records which app is in front and for how long, e.g. "Editor"');
      expect(consent.stdout).toMatch(/signature: verified/);
      expect(consent.stdout).toMatch(/granted: app_usage, idle/);

      const agent = home.start();
      await agent.waitFor(/capturing app_usage, idle/);
      const switched: { before: number; after: number }[] = [];
      for (const w of [mail, editor, mail]) {
        await new Promise((r) => setTimeout(r, 1200));
        const before = Date.now();
        await x.activate(w);
        switched.push({ before, after: Date.now() });
      }
      await new Promise((r) => setTimeout(r, 1200));
      await agent.waitFor(/sync: sent \d+ spans/);
      expect(await agent.stop('SIGTERM')).toBe(0);
      // The span open at SIGTERM was closed and flushed too.
      expect(agent.output()).toMatch(/SIGTERM: closing the open span/);

      const store = AgentStore.open(home.dataDir);
      const local = store.spans.everything();
      const unsent = store.spans.pendingCount();
      const device = store.state.device();
      store.close();
      expect(unsent).toBe(0);
      expect(local.length).toBeGreaterThanOrEqual(4);
      expect(local.every((s) => (s.app === 'Editor' || s.app === 'Mail') && s.title === undefined)).toBe(true);
      expect(local.map((s) => s.app)).toEqual(['Editor', 'Mail', 'Editor', 'Mail']);
      // Between two switches, give or take one 250 ms sample (and however slow wmctrl was).
      for (const [i, s] of local.slice(1, 3).entries()) {
        const [a, b] = [switched[i], switched[i + 1]];
        if (!a || !b) throw new Error('switch times');
        expect(s.durationMs).toBeGreaterThanOrEqual(b.before - a.after - 300);
        expect(s.durationMs).toBeLessThanOrEqual(b.after - a.before + 300);
      }

      const rows = await cloud.database.rows<{ id: string; duration_ms: number; app: string | null }>(
        sql`select id::text as id, duration_ms, app from spans where device_id = ${device?.deviceId ?? ''}`,
      );
      expect(rows.map((r) => r.id).sort()).toEqual(local.map((s) => s.id).sort());
      const [owner] = await cloud.database.rows<{ n: number }>(
        sql`select count(*)::int as n from spans where device_id = ${device?.deviceId ?? ''} and user_id = ${person.id}`,
      );
      expect(owner?.n).toBe(rows.length);
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const s of local) expect(byId.get(s.id)?.duration_ms).toBe(s.durationMs);

      const myData = await home.cli(['my-data']);
      expect(myData.stdout).toContain('Not yet sent: 0 spans');
      expect(myData.stdout).toMatch(/Editor/);
      const csv = await home.cli(['export', '--format', 'csv']);
      expect(csv.stdout.split('\r\n')[0]).toBe('id,start,durationMs,app,title,idle,state');
      expect(csv.stdout.split('\r\n').filter(Boolean)).toHaveLength(local.length + 1);

      expect((await home.cli(['pause', '30m'])).stdout).toMatch(/paused until/);
      expect((await home.cli(['status'])).stdout).toMatch(/capture: paused until/);
      expect((await home.cli(['pause', 'resume'])).stdout).toBe('resumed\n');

      // Withdrawal goes to the server, comes back as a signed receipt, and narrows capture at once.
      const withdrawn = await home.cli(['withdraw', 'idle']);
      expect(withdrawn.code, withdrawn.stderr).toBe(0);
      expect(withdrawn.stdout).toMatch(/\(withdrawn, terminal\)/);
      expect(withdrawn.stdout).toMatch(/signature: verified/);
      expect((await home.cli(['status'])).stdout).toMatch(/capture: capturing app_usage\n/);
    });
  });
}
