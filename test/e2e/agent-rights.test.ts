/**
 * The person's data rights from the agent against the real cloud: who viewed my data, erasure
 * (confirmed, with and without this device's copy), the requests' state; through the CLI
 * (the real bin) and through the screens' handlers. No X display needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { portOfAgent } from '../../desktop-agent/src/ui/agent-port';
import { createAgentHandlers } from '../../desktop-agent/src/ui/handlers';
import { inProcessAgent, type InProcessAgent } from '../helpers/agent-in-process';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';

describe('data rights from the agent', () => {
  let cloud: TestCloud;
  let bundle: Awaited<ReturnType<typeof agentBundle>>;
  let alice: InProcessAgent;
  let home: AgentHome;
  let aliceId: string;

  beforeAll(async () => {
    [cloud, bundle] = await Promise.all([startTestCloud(), agentBundle()]);
    const { directory, audit } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    aliceId = (await directory.createUser({ orgId, email: 'alice@rights.test', name: 'Alice', role: 'employee', osUser: 'alice' })).id;
    const manager = await directory.createUser({ orgId, email: 'mona@rights.test', name: 'Mona Manager', role: 'manager', osUser: 'mona' });
    await audit.record({ orgId, actorType: 'user', actorId: manager.id, action: 'report.team_summary.viewed', subjectUserIds: [aliceId], details: {} });
    // A per-user token (IT's MDM deployment) binds the device to Alice; her OS name alone would not.
    alice = await inProcessAgent(cloud.url, await cloud.tokenFor(aliceId), 'alice');
    // The CLI works on the same data folder (and so the same device) as the in-process agent.
    home = agentHome(bundle.file, process.env, { ICARUS_DATA_DIR: alice.config.dataDir });
  });
  afterAll(async () => {
    home?.cleanup();
    await alice?.close();
    bundle?.remove();
    await cloud?.stopAll();
  });

  it('`icarus-agent viewers` and the screen list who viewed my data, from the audit log', async () => {
    const cli = await home.cli(['viewers']);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/Who viewed your data \(1, newest first\):\n {2}\S+ {2}Mona Manager \(manager\): report team summary viewed\n/);
    const handlers = createAgentHandlers(portOfAgent(alice.agent, { clock: { now: () => Date.now() }, osUser: 'alice', agentVersion: 'test' }));
    const view = await handlers['mydata:viewers']({});
    expect(view).toMatchObject({ available: true, reason: null, entries: [{ actor: 'Mona Manager', role: 'manager', what: 'report team summary viewed' }] });
    // The server's full export through the same client, JSON and CSV as the server formats them.
    const exported = JSON.parse(await alice.agent.rights.exportData('json')) as { person: { userId: string }; viewers: unknown[] };
    expect(exported.person.userId).toBe(aliceId);
    expect(exported.viewers).toHaveLength(1);
    expect((await alice.agent.rights.exportData('csv')).split(/\r?\n/)[0]).toMatch(/^id,/);
  });

  it('`icarus-agent erase` asks first; --local also empties this device; the screen can request it too', { timeout: 30_000 }, async () => {
    const t0 = Date.now() - 120_000;
    alice.store.spans.insert(
      [0, 1, 2].map((i) => ({ id: uuidv7(), start: t0 + i * 1000, durationMs: 1000, app: 'Editor' })),
      Date.now(),
    );

    const declined = await home.cli(['erase', '--local'], 'n\n');
    expect(declined.code).toBe(1);
    expect(declined.stdout).toMatch(/cannot be undone\.\nErase\? \[y\/n\] n\nnothing was erased\n/);
    expect(alice.store.spans.everything()).toHaveLength(3);
    // Input that ends without an answer is a no, too.
    expect((await home.cli(['erase'], '')).code).toBe(1);

    const erased = await home.cli(['erase', '--local'], 'y\n');
    expect(erased.stderr).toBe('');
    expect(erased.code).toBe(0);
    expect(erased.stdout).toMatch(/erasure request [0-9a-f-]{36} accepted at \S+ \(requested\)/);
    expect(erased.stdout).toContain('erased 3 spans on this device');
    expect(alice.store.spans.everything()).toHaveLength(0);

    const handlers = createAgentHandlers(portOfAgent(alice.agent, { clock: { now: () => Date.now() }, osUser: 'alice', agentVersion: 'test' }));
    const fromScreen = await handlers['mydata:erase']({ confirm: true });
    expect(fromScreen.available).toBe(true);
    expect(Date.parse(fromScreen.requestedAt ?? '')).toBeGreaterThan(t0);

    await cloud.cloud.services.rights.idle();
    const listed = await home.cli(['erasures']);
    expect(listed.stdout.trim().split('\n')).toHaveLength(2);
    expect(listed.stdout).toMatch(/requested \S+ from device, devices too, completed \S+ \(0 spans removed\)/);
    expect(listed.stdout).toMatch(/requested \S+ from device, completed/);
    const requests = await alice.agent.rights.erasures();
    expect(requests.map((r) => r.eraseLocal).sort()).toEqual([false, true]);
  });

  it("a device bound to no person gets the server's reason, not a crash", async () => {
    const nobody = await inProcessAgent(cloud.url, cloud.enrollmentToken, 'kiosk');
    const kiosk = agentHome(bundle.file, process.env, { ICARUS_DATA_DIR: nobody.config.dataDir });
    try {
      const cli = await kiosk.cli(['viewers']);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(/403 device_unbound: This device is not bound to a person/);
    } finally {
      kiosk.cleanup();
      await nobody.close();
    }
  });
});
