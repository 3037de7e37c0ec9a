import { execFile } from 'node:child_process';
import type { FrontWindow, IdleSource, SourceHealth, WindowSource } from './sources';

/**
 * The front window from get-windows (macOS, Windows; Linux as a fallback). On Linux it
 * spawns xprop and xwininfo per call and loses titles containing '=' (9.3.0 splits on every
 * '='), which is why X11Capture is the Linux default.
 */
export class GetWindowsSource implements WindowSource {
  readonly name = 'get-windows';
  private problem: string | undefined;

  async frontWindow(): Promise<FrontWindow | undefined> {
    try {
      // Loaded on first use: the Linux default (X11Capture) never needs it.
      const { activeWindow } = await import('get-windows');
      const win = await activeWindow();
      // get-windows answers undefined (never throws) with no display or no permission.
      if (!win) {
        this.problem = 'unavailable: no active window reported (no display, or screen-recording permission missing)';
        return undefined;
      }
      this.problem = undefined;
      return { app: win.owner.name || 'unknown', title: win.title ?? '' };
    } catch (error) {
      this.problem = `failed: ${error instanceof Error ? error.message : String(error)}`;
      return undefined;
    }
  }

  health(): SourceHealth {
    return this.problem === undefined ? { ok: true } : { ok: false, problem: this.problem };
  }

  close(): void {}
}

/** Idle time from the `xprintidle` tool (MIT-SCREEN-SAVER), one process per call. */
export class XprintidleSource implements IdleSource {
  readonly name = 'xprintidle';
  private problem: string | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  idleMs(): Promise<number | undefined> {
    return new Promise((resolve) => {
      execFile('xprintidle', [], { env: this.env, timeout: 2000, encoding: 'utf8' }, (error, stdout) => {
        const ms = Number(stdout.trim());
        if (error || !Number.isInteger(ms) || ms < 0) {
          this.problem = `unavailable: xprintidle ${error ? error.message : `printed ${JSON.stringify(stdout)}`}`;
          return resolve(undefined);
        }
        this.problem = undefined;
        resolve(ms);
      });
    });
  }

  health(): SourceHealth {
    return this.problem === undefined ? { ok: true } : { ok: false, problem: this.problem };
  }

  close(): void {}
}

/** For platforms where the shell (Electron's powerMonitor) will provide idle time. */
export const noIdleSource: IdleSource = {
  name: 'idle-none',
  idleMs: () => Promise.resolve(undefined),
  health: () => ({ ok: false, problem: 'no idle source on this platform in the headless agent' }),
  close: () => {},
};
