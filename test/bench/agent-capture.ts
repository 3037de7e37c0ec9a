/**
 * The headless agent's own cost while it works: the esbuild bundle of `icarus-agent run`
 * (what the packages ship), run with the bin's V8 flags, under Xvfb, enrolled with a real cloud and consented to every scope,
 * sampling every second (the default) and syncing every 15 s, while the test switches the front
 * window every 3 s. CPU from /proc/<pid>/stat (utime + stime, and the same for any children it
 * waited for), peak RSS from VmHWM in /proc/<pid>/status. Goal: < 1% of one core, < 60 MB.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestCloud } from '../../cloud/test/support/cloud';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import { agentBundle, agentHome } from '../e2e/agent-helpers';
import { startXDisplay } from '../helpers/xdisplay';

export interface AgentCaptureFigures {
  cpuPercentOfOneCore: number;
  /** VmHWM: the most the agent ever held, start-up included. */
  peakRssMb: number;
  /** VmRSS at the end of the run. */
  endRssMb: number;
  spansPerSwitch: number;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime + cutime + cstime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
}

function statusKb(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0);
}

/** The V8 flags bin/icarus-agent.js runs with (its shebang): no optimising compiler, less memory
 * (lite mode turns WebAssembly off and says so on stderr unless told explicitly). */
export const AGENT_NODE_ARGS = ['--lite-mode', '--no-expose-wasm'];

export async function benchAgentCapture(seconds = 60, switchEveryMs = 3000, nodeArgs: string[] = AGENT_NODE_ARGS): Promise<AgentCaptureFigures> {
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const [cloud, x, bundle] = await Promise.all([startTestCloud('pglite'), startXDisplay(), agentBundle()]);
  const home = agentHome(bundle.file, x.env, { ICARUS_SYNC_INTERVAL_MS: '15000' }, nodeArgs);
  try {
    const windows = await Promise.all(['Editor', 'Browser', 'Mail'].map((app) => x.openWindow(`${app} window`, app)));
    const enrolled = await home.cli(['enroll', '--server', cloud.url, '--token', (await cloud.personToken('bench')).token]);
    if (enrolled.code !== 0) throw new Error(`enroll failed: ${enrolled.stderr}`);
    const consent = await home.cli(['consent'], 'y\ny\ny\n');
    if (consent.code !== 0) throw new Error(`consent failed: ${consent.stderr}`);

    const agent = home.start();
    await agent.waitFor(/capturing/);
    const pid = agent.child.pid;
    if (pid === undefined) throw new Error('agent has no pid');
    await sleep(2000); // past start-up work (policy fetch, first sync), which a long-running agent pays once
    const startedAt = Date.now();
    const ticks0 = cpuTicks(pid);
    let switches = 0;
    for (let i = 0; Date.now() - startedAt < seconds * 1000; i++) {
      const w = windows[i % windows.length];
      if (w) await x.activate(w);
      switches += 1;
      await sleep(Math.min(switchEveryMs, Math.max(0, seconds * 1000 - (Date.now() - startedAt))));
    }
    const elapsed = (Date.now() - startedAt) / 1000;
    const ticks = cpuTicks(pid) - ticks0;
    const peakRssKb = statusKb(pid, 'VmHWM');
    const endRssKb = statusKb(pid, 'VmRSS');
    await agent.stop();

    const store = AgentStore.open(home.dataDir);
    const spans = store.spans.everything().filter((s) => s.start >= startedAt && !s.idle);
    store.close();
    return {
      cpuPercentOfOneCore: (ticks / ticksPerSecond / elapsed) * 100,
      peakRssMb: peakRssKb / 1024,
      endRssMb: endRssKb / 1024,
      spansPerSwitch: spans.length / switches,
      seconds: elapsed,
    };
  } finally {
    home.cleanup();
    bundle.remove();
    await Promise.all([x.close(), cloud.stopAll()]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 60);
  console.log(JSON.stringify(await benchAgentCapture(seconds), null, 2));
}
