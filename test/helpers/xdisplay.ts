/**
 * A real X display for capture tests: Xvfb (a free display picked by -displayfd), openbox
 * (an EWMH window manager, so _NET_ACTIVE_WINDOW is maintained) and xterm windows with
 * chosen titles. Every process started here is stopped by its own PID in close(); HOME and
 * the XDG folders point at a temp folder because openbox and xterm write there.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REQUIRED = ['Xvfb', 'openbox', 'xdotool', 'wmctrl', 'xprop', 'xprintidle', 'xterm'] as const;

/** Why a real display cannot be started here, or undefined when it can. */
export function xDisplayUnavailableReason(): string | undefined {
  const missing = REQUIRED.filter((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
  if (missing.length === 0) return undefined;
  return `missing ${missing.join(', ')}: apt-get install -y --no-install-recommends ` + 'xvfb openbox xdotool wmctrl x11-utils xprintidle xterm';
}

export interface XWindow {
  /** X window id, decimal as xdotool prints it. */
  id: string;
  pid: number;
}

export interface XDisplay {
  display: string;
  /** Environment for processes that should see this display and the temp HOME. */
  env: NodeJS.ProcessEnv;
  /** The temp folder used as HOME; removed on close. */
  home: string;
  /** An xterm with this title; `app` sets its WM_CLASS class, which is what agents call the app. */
  openWindow(title: string, app?: string): Promise<XWindow>;
  /** Sets _NET_WM_NAME as UTF-8, the way browsers set non-ASCII titles. */
  setUtf8Title(window: XWindow, title: string): Promise<void>;
  activate(window: XWindow): Promise<void>;
  /** Synthetic input (resets the X idle timer). */
  nudge(): Promise<void>;
  idleMs(): Promise<number>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, fatal?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = fatal?.();
    if (problem) throw new Error(`${what}: ${problem}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function readDisplayNumber(xvfb: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const pipe = xvfb.stdio[3];
    if (!pipe) return reject(new Error('Xvfb has no -displayfd pipe'));
    let text = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not report a display in 30 s')), 30_000);
    pipe.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.trim());
      }
    });
    xvfb.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited with ${String(code)} before reporting a display`));
    });
  });
}

/**
 * Two test files may start and stop displays at the same moment; a display number freed by
 * one Xvfb can be taken by the next while the first is still removing its socket, and the
 * window manager then cannot connect. A fresh display on a second try is the cure.
 */
export async function startXDisplay(attempts = 3): Promise<XDisplay> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startXDisplayOnce();
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

async function startXDisplayOnce(): Promise<XDisplay> {
  const home = mkdtempSync(join(tmpdir(), 'icarus-x-'));
  const children: ChildProcess[] = [];
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
  };
  const track = (child: ChildProcess) => {
    children.push(child);
    return child;
  };
  const close = async () => {
    for (const child of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGTERM');
        await Promise.race([exited, sleep(2000)]);
      }
    }
    rmSync(home, { recursive: true, force: true });
  };

  try {
    const xvfb = track(
      spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
        stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
        env: baseEnv,
      }),
    );
    const display = `:${await readDisplayNumber(xvfb)}`;
    const env: NodeJS.ProcessEnv = { ...baseEnv, DISPLAY: display };
    const x = (bin: string, args: string[]) => run(bin, args, { env, encoding: 'utf8', timeout: 15_000 });

    const wm = track(spawn('openbox', ['--sm-disable'], { stdio: 'ignore', env }));
    // Generous: a CI box running other suites at once can take seconds to schedule openbox.
    await poll(
      'openbox to manage the display',
      30_000,
      async () => {
        const { stdout } = await x('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK']);
        return stdout.includes('window id') ? true : undefined;
      },
      () => (wm.exitCode !== null ? `openbox exited with ${wm.exitCode}` : undefined),
    );

    const activeId = async () => (await x('xdotool', ['getactivewindow'])).stdout.trim();
    return {
      display,
      env,
      home,
      async openWindow(title, app) {
        const args = ['-fa', 'Monospace', '-T', title, ...(app ? ['-class', app] : [])];
        const child = track(spawn('xterm', args, { stdio: 'ignore', env }));
        const pid = child.pid;
        if (pid === undefined) throw new Error('xterm did not start');
        const id = await poll(`the window of xterm ${pid}`, 30_000, async () => {
          const { stdout } = await x('xdotool', ['search', '--onlyvisible', '--pid', String(pid)]);
          return stdout.trim().split('\n')[0] || undefined;
        });
        return { id, pid };
      },
      async setUtf8Title(window, title) {
        await x('xprop', ['-id', window.id, '-f', '_NET_WM_NAME', '8u', '-set', '_NET_WM_NAME', title]);
      },
      async activate(window) {
        await x('wmctrl', ['-i', '-a', `0x${Number(window.id).toString(16).padStart(8, '0')}`]);
        await poll(`window ${window.id} to become active`, 10_000, async () => ((await activeId()) === window.id ? true : undefined));
      },
      async nudge() {
        await x('xdotool', ['mousemove_relative', '--', '1', '1']);
      },
      async idleMs() {
        return Number((await x('xprintidle', [])).stdout.trim());
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
