/**
 * What a device hears from the real cloud when it has nothing to send: heartbeat syncs bring
 * directives. (In process, fixed capture sources: nothing here depends on an X display.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { Agent } from '../../desktop-agent/src/core/agent';
import { trayTooltip } from '../../desktop-agent/src/electron/tray-state';
import { portOfAgent } from '../../desktop-agent/src/ui/agent-port';
import { createAgentHandlers } from '../../desktop-agent/src/ui/handlers';
import { defaultPolicy } from '../../cloud/src/modules/consent/default-policy';
import { inProcessAgent, type InProcessAgent } from '../helpers/agent-in-process';
import { agentBundle, agentHome } from './agent-helpers';

describe('agent directives from the real cloud', () => {
  let cloud: TestCloud;
  const agents: InProcessAgent[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud();
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await cloud?.stopAll();
  });

  it('a device with nothing to send still syncs on the heartbeat and obeys what was queued', { timeout: 30_000 }, async () => {
    const a = await inProcessAgent(cloud.url, cloud.enrollmentToken, 'quiet', { syncIntervalMs: 60_000, heartbeatIntervalMs: 1000 });
    agents.push(a);
    await a.agent.start();
    // No consent, so nothing is captured and nothing would ever be sent: only heartbeats go out.
    expect(a.store.spans.pendingCount()).toBe(0);
    const id = uuidv7();
    await cloud.cloud.services.devices.queueDirective(a.device.deviceId, { type: 'message', id, text: 'IT here: please update by Friday' });
    await a.waitForLog(/message: IT here: please update by Friday/);
    expect(a.store.state.get('messages')?.map((m) => m.id)).toContain(id);
    expect(a.agent.syncer.lastSuccessMs).toBeDefined();
    const pause = new Date(Date.now() + 3_600_000).toISOString();
    await cloud.cloud.services.devices.queueDirective(a.device.deviceId, { type: 'pause', until: pause, reason: 'maintenance' });
    await a.waitForLog(/paused by the server until/);
    expect(a.store.state.get('pauseUntilMs')).toBe(Date.parse(pause));
    expect(a.store.spans.everything()).toHaveLength(0);
  });

  it('a revoked device stops syncing and capturing for good, keeps its spans and says so', { timeout: 30_000 }, async () => {
    const a = await inProcessAgent(cloud.url, cloud.enrollmentToken, 'leaver', { syncIntervalMs: 500, heartbeatIntervalMs: 1000 });
    agents.push(a);
    const t0 = Date.now() - 60_000;
    a.store.spans.insert(
      [0, 1].map((i) => ({ id: uuidv7(), start: t0 + i * 1000, durationMs: 1000, app: 'Editor' })),
      Date.now(),
    );
    await cloud.cloud.services.devices.revoke(a.device.deviceId, a.device.orgId, 'test-admin');
    await a.agent.start();
    await a.waitForLog(/this device was revoked by your organisation: syncing and capture have stopped; the 2 unsent spans stay/);
    expect(a.store.state.get('revoked')?.serverSaid).toMatch(/403 forbidden: This device has been revoked/);
    expect(a.agent.scopesNow().size).toBe(0);
    // No retry loop: several sync and heartbeat intervals later, still the one attempt.
    await new Promise((r) => setTimeout(r, 2500));
    expect(
      a.log.filter((l) => /^this device was revoked|^sync:/.test(l)),
      a.log.join('\n'),
    ).toHaveLength(1);
    expect(a.store.spans.pendingCount()).toBe(2);

    const handlers = createAgentHandlers(portOfAgent(a.agent, { clock: { now: () => Date.now() }, osUser: 'leaver', agentVersion: 'test' }));
    const status = await handlers['status:get']({});
    expect(status.state).toBe('revoked');
    expect(status.summary).toMatch(/revoked by your organisation/);
    expect(trayTooltip(status)).toMatch(/revoked by your organisation/);

    // A restart remembers it and does not knock on the server again.
    await a.agent.stop(200);
    const again = new Agent(a.store, a.device, a.config, a.agent.sources, undefined, (l) => a.log.push(`again: ${l}`));
    await again.start();
    await a.waitForLog(/^again: this device was revoked/);
    await again.stop(200);
    expect(a.log.filter((l) => /^again: sync:/.test(l))).toHaveLength(0);
  });

  it('re-asked after a policy change, `consent` first shows what changed since the last decision', { timeout: 40_000 }, async () => {
    const bundle = await agentBundle();
    const a = await inProcessAgent(cloud.url, (await cloud.personToken('reader')).token, 'reader');
    agents.push(a);
    const home = agentHome(bundle.file, process.env, { ICARUS_DATA_DIR: a.config.dataDir });
    try {
      const first = await home.cli(['consent'], 'y\ny\n');
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).not.toContain('What changed');
      const decidedOn = a.store.state.get('consent')?.policyVersion ?? 0;

      const wider = defaultPolicy('Demo Org');
      wider.scopes.push({ scope: 'window_titles', purpose: 'Which document is in front, to group time by project.', legalBasis: 'consent' });
      wider.retentionDays += 30;
      const published = await cloud.cloud.services.consent.publish(cloud.bootstrap.orgId, wider, { type: 'system', id: 'diff-test' });
      expect(published.version).toBeGreaterThan(decidedOn);

      const again = await home.cli(['consent'], 'y\nn\ny\n');
      expect(again.code, again.stderr).toBe(0);
      const shown = again.stdout.slice(0, again.stdout.indexOf('• '));
      expect(shown).toContain(`What changed since v${decidedOn} (the version you last decided on):`);
      expect(shown).toMatch(/! New scope "window_titles" is asked for \(consent\) \(asks more of you\)/);
      expect(shown).toMatch(/! Server retention in days: \d+ -> \d+ \(asks more of you\)/);
      expect(shown).toContain('Not recorded until you decide again: window_titles');
    } finally {
      home.cleanup();
      bundle.remove();
    }
  });

  it('a scope the person withdraws on the web stops on their agent at its next sync', { timeout: 30_000 }, async () => {
    const person = await cloud.personToken('webwithdrawer');
    const a = await inProcessAgent(cloud.url, person.token, 'webwithdrawer', { syncIntervalMs: 500, heartbeatIntervalMs: 1000 });
    agents.push(a);
    await a.agent.consent.fetchPolicy();
    await a.agent.consent.decide('granted', ['app_usage', 'idle'], 'terminal');
    await a.agent.start();
    expect([...a.agent.scopesNow()].sort()).toEqual(['app_usage', 'idle']);
    const changed = await cloud.cloud.services.consent.withdrawOnWeb({ orgId: cloud.bootstrap.orgId, userId: person.userId }, ['idle']);
    expect(changed.map((c) => c.deviceId)).toEqual([a.device.deviceId]);
    await a.waitForLog(/consent revoked by the server \(you withdrew consent on the web\): idle/);
    expect(a.store.state.get('consent')?.granted).toEqual(['app_usage']);
    expect([...a.agent.scopesNow()]).toEqual(['app_usage']);
  });

  it('a person deprovisioned by the identity provider (SCIM) stops being recorded on their agent, which says why', { timeout: 30_000 }, async () => {
    const person = await cloud.personToken('scimleaver');
    const a = await inProcessAgent(cloud.url, person.token, 'scimleaver', { syncIntervalMs: 500, heartbeatIntervalMs: 1000 });
    agents.push(a);
    await a.agent.consent.fetchPolicy();
    await a.agent.consent.decide('granted', ['app_usage'], 'terminal');
    await a.agent.start();
    expect([...a.agent.scopesNow()]).toEqual(['app_usage']);
    expect(a.store.state.get('binding')?.boundTo?.email).toBe('scimleaver@people.test');

    const { provisioning } = cloud.cloud.services;
    const made = await provisioning.createConnection({ orgId: cloud.bootstrap.orgId, userId: person.userId }, 'Entra ID');
    const res = await fetch(`${cloud.url}/scim/v2/Users/${person.userId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${made.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }),
    });
    expect(res.status).toBe(200);

    await a.waitForLog(/binding ended by the server: your account was removed from the organisation's directory \(set inactive\); capture has stopped/);
    expect(a.agent.scopesNow().size).toBe(0);
    expect(a.store.state.get('binding')?.boundTo).toBeNull();
    expect(a.store.state.get('consent')).toBeUndefined();
    // Among the agent's messages (a receipt check of the earlier consent may land after it).
    expect(a.store.state.get('messages')?.map((m) => m.text)).toContainEqual(
      expect.stringMatching(/^This computer no longer records for anyone: your account was removed/),
    );
    const handlers = createAgentHandlers(portOfAgent(a.agent, { clock: { now: () => Date.now() }, osUser: 'scimleaver', agentVersion: 'test' }));
    const status = await handlers['status:get']({});
    expect(status.state).not.toBe('recording');
    expect(status.scopesActive).toEqual([]);
  });
});
