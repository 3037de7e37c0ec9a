/**
 * The agent core in this process against a real cloud: real enrollment, real SQLite store,
 * real Agent (sync loop, directives), with fixed capture sources so no X display is needed.
 * For what depends on the cloud's answers, not on capture; capture has its own X tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, AGENT_VERSION } from '../../desktop-agent/src/core/agent';
import type { CaptureSources } from '../../desktop-agent/src/core/agent';
import { resolveConfig, type AgentConfig, type ConfigLayer } from '../../desktop-agent/src/core/config';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import type { DeviceIdentity } from '../../desktop-agent/src/core/store/state';
import { enroll } from '../../desktop-agent/src/core/sync/auth';

export function fixedSources(app = 'Editor', title = 'notes.txt'): CaptureSources {
  return {
    window: { name: 'fixed', frontWindow: async () => ({ app, title }), health: () => ({ ok: true }), close: () => {} },
    idle: { name: 'fixed-idle', idleMs: async () => 0, health: () => ({ ok: true }), close: () => {} },
  };
}

export interface InProcessAgent {
  dir: string;
  store: AgentStore;
  device: DeviceIdentity;
  config: AgentConfig;
  agent: Agent;
  log: string[];
  /** Resolves once a log line matches; fails with the log so far. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** Enrolls a fresh device as `osUser` (matched to a directory person when one has that name). */
export async function inProcessAgent(server: string, enrollmentToken: string, osUser: string, layer: ConfigLayer = {}): Promise<InProcessAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'icarus-inproc-'));
  // An empty environment and a managed file that does not exist: only `layer` configures it.
  const config = resolveConfig({ dataDir: join(dir, 'data'), ...layer }, { HOME: dir, ICARUS_MANAGED_CONFIG: join(dir, 'none.json') });
  const store = AgentStore.open(config.dataDir);
  const device = await enroll({
    serverUrl: server,
    enrollmentToken,
    deviceName: `${osUser}-box`,
    osUser,
    platform: 'linux',
    agentVersion: AGENT_VERSION,
    keyFile: store.keyFile,
  });
  store.state.setDevice(device);
  const log: string[] = [];
  const agent = new Agent(store, device, config, fixedSources(), undefined, (line) => log.push(line));
  let closed = false;
  return {
    dir,
    store,
    device,
    config,
    agent,
    log,
    async waitForLog(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = log.find((l) => pattern.test(l));
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no log line matched ${pattern}; log:\n${log.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await agent.stop(500);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
