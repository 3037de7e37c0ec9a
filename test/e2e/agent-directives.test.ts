/**
 * What a device hears from the real cloud when it has nothing to send: heartbeat syncs bring
 * directives. (In process, fixed capture sources: nothing here depends on an X display.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { startTestCloud, type TestCloud } from '../../cloud/src/testing/cloud';
import { inProcessAgent, type InProcessAgent } from '../helpers/agent-in-process';

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
});
