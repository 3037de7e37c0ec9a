/**
 * An ActivityWatch export imported with the real bundled agent, synced to the real cloud
 * (PGlite; PostgreSQL too when TEST_DATABASE_URL is set): the imported spans arrive by the
 * normal path, and the server's rules hold (nothing before the consent, no title without its
 * scope, no overlap with what the agent captured itself, a re-import adds nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { testDatabaseKinds } from '../../cloud/test/support/database';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';

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
      const imported = await home.cli(['import-activitywatch', file]);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(/^imported 5 spans \(4 s\)/);
      expect(imported.stdout).toMatch(/in 1 event: before your consent took effect on this device/);
      expect(imported.stdout).toMatch(/in 1 event: already covered by spans on this device/);
      expect(imported.stdout).toMatch(/in 1 event: not a window or afk bucket/);
      expect(imported.stdout).toMatch(/in 1 event: away from keyboard/);
      const again = await home.cli(['import-activitywatch', file]);
      expect(again.stdout).toMatch(/^imported 0 spans/);

      store = AgentStore.open(home.dataDir);
      const local = store.spans.everything();
      store.close();
      expect(local.map((s) => [s.start - t, s.durationMs, s.idle ? 'idle' : s.app])).toEqual([
        [0, 1000, 'Editor'],
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
  });
}
