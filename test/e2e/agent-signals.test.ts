/**
 * SIGTERM to the wrapper a developer or script starts the agent with (`npm run agent`, `npx
 * icarus-agent`) stops the agent too, cleanly, instead of leaving it capturing in the background.
 * Real npm, real shells, real processes; only the pids started here are signalled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrollOffline, lockHolderPid } from './agent-offline';

const root = fileURLToPath(new URL('../..', import.meta.url));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function wrapperStopsAgent(command: string, args: string[], cwd: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'icarus-signals-'));
  const dataDir = join(dir, 'data');
  await enrollOffline(dataDir);
  const wrapper: ChildProcess = spawn(command, args, {
    cwd,
    env: {
      ...process.env,
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'config'),
      ICARUS_DATA_DIR: dataDir,
      ICARUS_MANAGED_CONFIG: join(dir, 'managed.json'),
      ICARUS_CAPTURE_BACKEND: 'get-windows',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  wrapper.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  wrapper.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  let agentPid: number | undefined;
  cleanups.push(() => {
    if (wrapper.pid !== undefined && wrapper.exitCode === null && wrapper.signalCode === null) process.kill(wrapper.pid, 'SIGKILL');
    if (agentPid !== undefined && alive(agentPid)) process.kill(agentPid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  agentPid = await lockHolderPid(dataDir, 60_000);
  expect(agentPid).not.toBe(wrapper.pid); // the agent really is a separate process below the wrapper
  if (wrapper.pid === undefined) throw new Error('wrapper has no pid');
  process.kill(wrapper.pid, 'SIGTERM');

  const deadline = Date.now() + 15_000;
  while (alive(agentPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(agentPid)) output += execFileSync('ps', ['-o', 'pid,ppid,args', '-p', String(agentPid)]).toString();
  expect(alive(agentPid), `agent ${agentPid} still running after SIGTERM to ${command} ${wrapper.pid}; output:\n${output}`).toBe(false);
  expect(output).toMatch(/closing the open span and flushing/);
  expect(output).toMatch(/stopped/);
}

describe('SIGTERM to a wrapper', () => {
  it('npm run agent -- run: the agent stops too', () => wrapperStopsAgent('npm', ['run', 'agent', '--', 'run'], join(root, 'desktop-agent')), 90_000);
  it('npx icarus-agent run: the agent stops too', () => wrapperStopsAgent('npx', ['icarus-agent', 'run'], root), 90_000);
});
