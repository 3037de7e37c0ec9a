/**
 * Drives the headless agent as a separate process, the way a person or IT would: the real
 * bin, real SQLite file, real signals. Only processes started here are stopped, by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { bundleAgent } from '../../desktop-agent/scripts/bundle';

/**
 * Bundles the agent once per test file (esbuild, ~1 s) into desktop-agent/dist (ignored by git,
 * where node_modules resolves), so each CLI call starts in a fraction of tsx's time.
 */
export async function agentBundle(): Promise<{ file: string; remove(): void }> {
  const file = fileURLToPath(new URL(`../../desktop-agent/dist/test-${randomBytes(4).toString('hex')}.mjs`, import.meta.url));
  await bundleAgent(file);
  return { file, remove: () => rmSync(file, { force: true }) };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface AgentHome {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  cli(args: string[], stdin?: string): Promise<CliResult>;
  /** Starts `run` in the background; returns the child and a live view of its output. */
  start(args?: string[]): RunningAgent;
  cleanup(): void;
}

export interface RunningAgent {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM (or another signal) and wait for exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function agentHome(bundle: string, baseEnv: NodeJS.ProcessEnv = process.env, extra: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): AgentHome {
  const root = mkdtempSync(join(tmpdir(), 'icarus-agent-'));
  const dataDir = join(root, 'data');
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    HOME: root,
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'xdg-data'),
    ICARUS_DATA_DIR: dataDir,
    ICARUS_MANAGED_CONFIG: join(root, 'managed.json'),
    ...extra,
  };
  const started: ChildProcess[] = [];
  return {
    dataDir,
    env,
    cli(args, stdin) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [bundle, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
        // A command that fails before reading its input closes the pipe first (EPIPE): its exit
        // code and output are the result, not the write.
        child.stdin.on('error', () => {});
        child.stdin.end(stdin ?? '');
      });
    },
    start(args = []) {
      const child = spawn(process.execPath, [...nodeArgs, bundle, 'run', ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(child);
      let text = '';
      child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return {
        child,
        output: () => text,
        async waitFor(pattern, timeoutMs = 20_000) {
          const deadline = Date.now() + timeoutMs;
          while (!pattern.test(text)) {
            if (Date.now() > deadline) throw new Error(`agent never printed ${pattern}; output so far:\n${text}`);
            if (child.exitCode !== null) throw new Error(`agent exited (${child.exitCode}) before printing ${pattern}:\n${text}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        },
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, signal);
          return exited;
        },
      };
    },
    cleanup() {
      for (const child of started) {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
