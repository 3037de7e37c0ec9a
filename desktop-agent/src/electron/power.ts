import { powerMonitor } from 'electron';
import type { IdleSource, SourceHealth } from '../core/capture/sources';

/** Idle time from the OS idle timer via powerMonitor: the tray app's IdleSource on every OS. */
export class PowerMonitorIdleSource implements IdleSource {
  readonly name = 'powerMonitor';
  async idleMs(): Promise<number | undefined> {
    // Whole seconds only; fine against idle thresholds of 30 s and more.
    return powerMonitor.getSystemIdleTime() * 1000;
  }
  health(): SourceHealth {
    return { ok: true };
  }
  close(): void {}
}

export interface SleepSignals {
  /** The machine is going to sleep or the screen locked: close the open span now. */
  sleep(): void;
  /** Back: capture may continue (the gap is not counted as activity). */
  wake(): void;
}

/** Lock and suspend end the open span at once rather than waiting for the sample gap to show it. */
export function setupPowerEvents(signals: SleepSignals): () => void {
  const sleep = () => signals.sleep();
  const wake = () => signals.wake();
  powerMonitor.on('suspend', sleep);
  powerMonitor.on('lock-screen', sleep);
  powerMonitor.on('resume', wake);
  powerMonitor.on('unlock-screen', wake);
  return () => {
    powerMonitor.off('suspend', sleep);
    powerMonitor.off('lock-screen', sleep);
    powerMonitor.off('resume', wake);
    powerMonitor.off('unlock-screen', wake);
  };
}
