import { app, dialog, Menu, nativeImage, shell, Tray } from 'electron';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { IpcHandlers, StatusView } from '@icarus/shared';
import { aboutText, trayMenuTemplate, trayTooltip, TRAY_ICONS } from './tray-state';
import { setupIpc } from './ipc';
import { setupPowerEvents, type SleepSignals } from './power';
import { AgentWindows, type WindowPaths } from './windows';

/**
 * What the tray app needs from the running agent: the contract's handlers (the same ones the
 * loopback server uses), start/stop, sleep signals, and a change notification. Built from the
 * core's Agent by createTrayAgent (agent-shell.ts); tests hand in their own.
 */
export interface TrayAgent extends SleepSignals {
  handlers: IpcHandlers;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Called after anything that may change the tray state (decisions, pause, sync, directives). */
  onChange(listener: () => void): void;
}

export interface TrayAppOptions extends WindowPaths {
  iconsDir: string;
  agent: TrayAgent;
  /** Checks the update feed; absent when IT configured none. */
  checkForUpdates?: () => Promise<void>;
  /** The lock launchTrayApp already took; startTrayApp takes it itself when absent. */
  instance?: SingleInstance;
}

/** This process holds the single-instance lock; a later launch is reported to `onSecondLaunch`. */
export interface SingleInstance {
  /** A launch that came before the listener is set (e.g. while enrolling) is reported at once. */
  onSecondLaunch(listener: () => void): void;
}

/**
 * Single instance: a second launch quits at once (and the first one shows its status window).
 * requestSingleInstanceLock works before the app is ready, so this is the very first step:
 * nothing (enrollment, the store) runs in a process that is about to quit.
 */
export function takeSingleInstanceLock(): SingleInstance | undefined {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return undefined;
  }
  let listener: (() => void) | undefined;
  let missed = false;
  app.on('second-instance', () => {
    if (listener) listener();
    else missed = true;
  });
  return {
    onSecondLaunch(l) {
      listener = l;
      if (missed) {
        missed = false;
        l();
      }
    },
  };
}

/**
 * The tray app's start order: the single-instance lock first, then app ready, then `prepare`
 * (config, store, enrollment: safeStorage, which guards the device key, answers only once the
 * app is ready), then the tray. Two first launches therefore cannot both enroll: the second
 * has quit before it reads anything.
 */
export async function launchTrayApp(prepare: () => Promise<Omit<TrayAppOptions, 'instance'>>): Promise<RunningTrayApp | undefined> {
  const instance = takeSingleInstanceLock();
  if (!instance) return undefined;
  await app.whenReady();
  return startTrayApp({ ...(await prepare()), instance });
}

/** Starts at login (per user; the installers also register it machine-wide where IT wants that). */
export function setupAutoLaunch(): void {
  if (process.platform === 'linux') return; // the XDG autostart entry installed by the package does this
  app.setLoginItemSettings({ openAtLogin: true });
}

export interface RunningTrayApp {
  tray: Tray;
  windows: AgentWindows;
  refresh(): Promise<StatusView>;
  quit(): Promise<void>;
}

export function setupTray(options: TrayAppOptions, windows: AgentWindows, quit: () => void): { tray: Tray; refresh(): Promise<StatusView> } {
  const { agent, iconsDir } = options;
  const icon = (s: StatusView) => nativeImage.createFromPath(join(iconsDir, TRAY_ICONS[s.state]));
  let tray: Tray | undefined;
  const call = (work: () => Promise<unknown>) => void work().then(refresh, refresh);
  async function refresh(): Promise<StatusView> {
    const status = await agent.handlers['status:get']({});
    tray ??= new Tray(icon(status));
    tray.setImage(icon(status));
    tray.setToolTip(trayTooltip(status));
    tray.setContextMenu(
      Menu.buildFromTemplate(
        trayMenuTemplate(status, {
          pause: (preset) => call(() => agent.handlers['pause:set']({ preset })),
          resume: () => call(() => agent.handlers['pause:resume']({})),
          openMyData: () => windows.show('my-data'),
          openConsent: () => windows.show('consent'),
          openImports: () => windows.show('imports'),
          about: () => void dialog.showMessageBox({ type: 'info', title: 'Icarus Nova', message: 'Icarus Nova', detail: aboutText(status) }),
          quit,
        }),
      ),
    );
    return status;
  }
  return {
    get tray(): Tray {
      if (!tray) throw new Error('tray not created yet: call refresh() first');
      return tray;
    },
    refresh,
  };
}

/**
 * First run and every policy change: the consent window opens and stays the way in until the
 * person decides; nothing records meanwhile (the core's gate sees no decision for those scopes).
 * It opens too while the employee notice in force is not acknowledged (a newly published version
 * has a new notice, even when it asks nothing new of the person).
 */
export function setupConsentWindow(agent: TrayAgent, windows: AgentWindows): () => Promise<void> {
  return async () => {
    if (windows.isOpen('consent')) return;
    const view = await agent.handlers['consent:get']({});
    const open = view.decisionNeeded || (await agent.handlers['notice:get']({})).acknowledgmentNeeded;
    if (open && !windows.isOpen('consent')) windows.show('consent');
  };
}

/** The tray app, feature by feature (electron/fiddle's setupX() style). */
export async function startTrayApp(options: TrayAppOptions): Promise<RunningTrayApp | undefined> {
  const instance = options.instance ?? takeSingleInstanceLock();
  if (!instance) return undefined;
  const windows = new AgentWindows(options);
  await app.whenReady();
  instance.onSecondLaunch(() => windows.show('status'));
  setupAutoLaunch();
  const { agent } = options;
  const stopIpc = setupIpc(agent.handlers, (sender) => windows.owns(sender));
  const stopPower = setupPowerEvents(agent);
  const quit = async () => {
    stopPower();
    stopIpc();
    await agent.stop();
    app.exit(0);
  };
  const tray = setupTray(options, windows, () => void quit());
  const checkConsent = setupConsentWindow(agent, windows);
  agent.onChange(() => void tray.refresh().then(checkConsent));
  // The tray app lives in the tray: closing the last window must not end recording or pausing.
  app.on('window-all-closed', () => {});
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(({ url }) => {
      if (/^https:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
  await agent.start();
  await tray.refresh();
  await checkConsent();
  void options.checkForUpdates?.().catch(() => undefined);
  return { tray: tray.tray, windows, refresh: tray.refresh, quit };
}

export function defaultOsUser(): string {
  return userInfo().username;
}
