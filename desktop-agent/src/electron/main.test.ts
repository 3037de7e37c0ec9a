import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { IpcHandlers, StatusView } from '@icarus/shared';
import { IPC_INVOKE_CHANNEL } from '../preload/channel';
import { launchTrayApp, startTrayApp, type TrayAgent } from './main';
import { PowerMonitorIdleSource } from './power';

/** A fake of the parts of electron the main process uses, recording what main did with them. */
const fake = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => unknown;
  const on = () => {
    const listeners = new Map<string, Listener[]>();
    return {
      listeners,
      on(event: string, l: Listener) {
        listeners.set(event, [...(listeners.get(event) ?? []), l]);
        return this;
      },
      off(event: string, l: Listener) {
        listeners.set(
          event,
          (listeners.get(event) ?? []).filter((x) => x !== l),
        );
      },
      emit(event: string, ...args: unknown[]) {
        for (const l of listeners.get(event) ?? []) l(...args);
      },
    };
  };
  const state = {
    lock: true,
    quitCalled: 0,
    /** The order of the start-up steps that matter: lock, ready, and what the test's prepare did. */
    order: [] as string[],
    windows: [] as FakeWindow[],
    trays: [] as { image: string; tooltip: string; menu: { id?: string; label?: string; visible?: boolean; enabled?: boolean; click?: () => void }[] }[],
    handlers: new Map<string, Listener>(),
  };
  class FakeWebContents {
    url = '';
    openHandler: ((d: { url: string }) => { action: string }) | undefined;
    events = on();
    constructor(readonly owner: FakeWindow | null) {}
    getURL() {
      return this.url;
    }
    setWindowOpenHandler(h: (d: { url: string }) => { action: string }) {
      this.openHandler = h;
    }
    on(e: string, l: Listener) {
      this.events.on(e, l);
    }
  }
  class FakeWindow {
    webContents: FakeWebContents;
    events = on();
    shown = false;
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      this.webContents = new FakeWebContents(this);
      state.windows.push(this);
    }
    static fromWebContents(c: FakeWebContents) {
      return c.owner;
    }
    loadFile(file: string) {
      this.webContents.url = `file://${file}`;
      return Promise.resolve();
    }
    on(e: string, l: Listener) {
      this.events.on(e, l);
    }
    once(e: string, l: Listener) {
      this.events.on(e, l);
    }
    show() {
      this.shown = true;
    }
    focus() {}
    isDestroyed() {
      return false;
    }
  }
  const app = Object.assign(on(), {
    requestSingleInstanceLock: () => {
      state.order.push('lock');
      return state.lock;
    },
    quit: () => void state.quitCalled++,
    exit: () => {},
    whenReady: () => {
      state.order.push('ready');
      return Promise.resolve();
    },
    setLoginItemSettings: () => {},
  });
  const powerMonitor = Object.assign(on(), { getSystemIdleTime: () => 42 });
  return { state, FakeWindow, FakeWebContents, app, powerMonitor };
});

vi.mock('electron', () => ({
  app: fake.app,
  powerMonitor: fake.powerMonitor,
  BrowserWindow: fake.FakeWindow,
  ipcMain: {
    handle: (channel: string, l: (...a: unknown[]) => unknown) => fake.state.handlers.set(channel, l),
    removeHandler: (channel: string) => fake.state.handlers.delete(channel),
  },
  Tray: class {
    entry = { image: '', tooltip: '', menu: [] as never[] };
    constructor(image: string) {
      this.entry.image = image;
      fake.state.trays.push(this.entry);
    }
    setImage(image: string) {
      this.entry.image = image;
    }
    setToolTip(t: string) {
      this.entry.tooltip = t;
    }
    setContextMenu(menu: never[]) {
      this.entry.menu = menu;
    }
  },
  Menu: { buildFromTemplate: (t: unknown) => t },
  nativeImage: { createFromPath: (p: string) => p.split('/').pop() },
  dialog: { showMessageBox: () => Promise.resolve({ response: 0 }) },
  shell: { openExternal: () => Promise.resolve() },
}));

function status(over: Partial<StatusView>): StatusView {
  return {
    state: 'recording',
    summary: '',
    pausedUntil: null,
    pendingSpans: 0,
    droppedSpans: 0,
    lastSyncAt: null,
    lastSyncError: null,
    scopesActive: ['app_usage'],
    captureSources: [],
    agentVersion: '0.1.0',
    serverUrl: 'https://icarus.example',
    deviceId: 'd-1',
    ...over,
  };
}

/** An agent whose handlers keep a little state, enough to drive the shell through its states. */
function fakeAgent() {
  let current = status({ state: 'waiting_for_consent', scopesActive: [] });
  let decisionNeeded = true;
  let noticeToAcknowledge = false;
  const listeners: (() => void)[] = [];
  const calls: string[] = [];
  const sleeps: string[] = [];
  const handlers = {
    'status:get': async () => current,
    'consent:get': async () => ({ policy: null, scopes: [], decisionNeeded, osUser: 'alex' }),
    'notice:get': async () => ({ available: true, reason: null, notice: null, acknowledgmentNeeded: noticeToAcknowledge }),
    'pause:set': async ({ preset }: { preset: string }) => {
      calls.push(`pause:${preset}`);
      current = status({ state: 'paused', pausedUntil: new Date(Date.now() + 3_600_000).toISOString() });
      return current;
    },
    'pause:resume': async () => {
      calls.push('resume');
      current = status({});
      return current;
    },
  } as unknown as IpcHandlers;
  const agent: TrayAgent = {
    handlers,
    start: async () => void calls.push('start'),
    stop: async () => void calls.push('stop'),
    sleep: () => void sleeps.push('sleep'),
    wake: () => void sleeps.push('wake'),
    onChange: (l) => void listeners.push(l),
  };
  return {
    agent,
    calls,
    sleeps,
    set(next: StatusView, needsDecision: boolean, notice = false) {
      current = next;
      decisionNeeded = needsDecision;
      noticeToAcknowledge = notice;
      listeners.forEach((l) => l());
    },
  };
}

const paths = { pagesDir: '/opt/icarus/ui', preloadFile: '/opt/icarus/preload.cjs', iconsDir: '/opt/icarus/icons' };
const tick = () => new Promise((r) => setTimeout(r, 10));

describe('tray app main process (fake electron)', () => {
  beforeEach(() => {
    fake.state.lock = true;
    fake.state.quitCalled = 0;
    fake.state.order.length = 0;
    fake.app.listeners.clear();
    fake.state.windows.length = 0;
    fake.state.trays.length = 0;
    fake.state.handlers.clear();
  });

  it('a second instance quits at once and starts nothing', async () => {
    fake.state.lock = false;
    const f = fakeAgent();
    expect(await startTrayApp({ ...paths, agent: f.agent })).toBeUndefined();
    expect(fake.state.quitCalled).toBe(1);
    expect(f.calls).toEqual([]);
  });

  it('start order: the single-instance lock before app ready, and enrollment (prepare) only after both', async () => {
    const f = fakeAgent();
    const running = await launchTrayApp(async () => {
      fake.state.order.push('prepare');
      return { ...paths, agent: f.agent };
    });
    expect(running).toBeDefined();
    expect(fake.state.order.slice(0, 3)).toEqual(['lock', 'ready', 'prepare']);
    // startTrayApp reuses the lock it was handed: one request only.
    expect(fake.state.order.filter((s) => s === 'lock')).toHaveLength(1);
    expect(f.calls).toContain('start');
    // A second launch reaches the first instance, which shows its status window.
    const before = fake.state.windows.length;
    fake.app.emit('second-instance');
    expect(fake.state.windows.length).toBe(before + 1);
    expect(fake.state.windows.at(-1)?.webContents.getURL()).toBe('file:///opt/icarus/ui/status.html');
  });

  it('a second first launch quits before app ready and never enrolls', async () => {
    fake.state.lock = false;
    let prepared = false;
    const running = await launchTrayApp(async () => {
      prepared = true;
      return { ...paths, agent: fakeAgent().agent };
    });
    expect(running).toBeUndefined();
    expect(prepared).toBe(false);
    expect(fake.state.order).toEqual(['lock']);
    expect(fake.state.quitCalled).toBe(1);
  });

  it('a second launch while the first is still enrolling is not lost: the status window opens once ready', async () => {
    const f = fakeAgent();
    await launchTrayApp(async () => {
      fake.app.emit('second-instance'); // arrives mid-enrollment, before any window can exist
      expect(fake.state.windows).toHaveLength(0);
      return { ...paths, agent: f.agent };
    });
    expect(fake.state.windows.map((w) => w.webContents.getURL())).toContain('file:///opt/icarus/ui/status.html');
  });

  it('first run: consent window opens, secure, and the tray says nothing is recorded', async () => {
    const f = fakeAgent();
    await startTrayApp({ ...paths, agent: f.agent });
    const [win] = fake.state.windows;
    expect(win?.webContents.getURL()).toBe('file:///opt/icarus/ui/consent.html');
    expect(win?.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, preload: paths.preloadFile });
    expect(win?.webContents.openHandler?.({ url: 'https://evil.example' })).toEqual({ action: 'deny' });
    const nav = {
      prevented: false,
      preventDefault() {
        this.prevented = true;
      },
    };
    win?.webContents.events.emit('will-navigate', nav, 'https://evil.example/');
    expect(nav.prevented).toBe(true);
    const tray = fake.state.trays[0];
    expect(tray?.image).toBe('tray-waiting.png');
    expect(tray?.tooltip).toContain('nothing is recorded');
  });

  it('state changes drive icon, tooltip and menu; pause and resume go through the handlers', async () => {
    const f = fakeAgent();
    await startTrayApp({ ...paths, agent: f.agent });
    f.set(status({}), false);
    await tick();
    const tray = fake.state.trays[0];
    expect(tray?.image).toBe('tray-recording.png');
    expect(tray?.menu.find((m) => m.id === 'resume')?.visible).toBe(false);
    tray?.menu.find((m) => m.id === 'pause-1h')?.click?.();
    await tick();
    expect(f.calls).toContain('pause:1h');
    expect(tray?.image).toBe('tray-paused.png');
    expect(tray?.menu.find((m) => m.id === 'resume')?.visible).toBe(true);
    expect(tray?.menu.find((m) => m.id === 'pause-15m')?.enabled).toBe(false);
    tray?.menu.find((m) => m.id === 'resume')?.click?.();
    await tick();
    expect(f.calls).toContain('resume');
    f.set(status({ state: 'offline', pendingSpans: 37 }), false);
    await tick();
    expect(tray?.tooltip).toBe('Icarus Nova: offline, 37 spans waiting to be sent');
    expect(tray?.menu.map((m) => m.id)).toEqual(expect.arrayContaining(['pause-15m', 'pause-1h', 'pause-tomorrow', 'my-data', 'consent', 'about']));
  });

  it('revoked: its own icon and tooltip, no pause or resume in the menu, the screens still there', async () => {
    const f = fakeAgent();
    await startTrayApp({ ...paths, agent: f.agent });
    f.set(status({ state: 'revoked', scopesActive: [], pendingSpans: 2 }), false);
    await tick();
    const tray = fake.state.trays[0];
    expect(tray?.image).toBe('tray-revoked.png');
    expect(tray?.tooltip).toBe('Icarus Nova: this device was revoked by your organisation; nothing is recorded or sent');
    const visible = (id: string) => tray?.menu.find((m) => m.id === id)?.visible !== false;
    expect(['pause-15m', 'pause-1h', 'pause-tomorrow', 'resume'].filter(visible)).toEqual([]);
    expect(['my-data', 'consent', 'about', 'quit'].every(visible)).toBe(true);
    // Not enrolled is a different state: it is not mistaken for a revocation.
    f.set(status({ state: 'not_enrolled', deviceId: null, serverUrl: null, scopesActive: [] }), false);
    await tick();
    expect(tray?.image).toBe('tray-waiting.png');
    expect(tray?.tooltip).toBe('Icarus Nova: not set up yet (no server)');
  });

  // Each screen in the tray menu opens in one of the agent's own windows, and only once: a second
  // click brings the open window forward. The first run's consent window is closed first, so the
  // privacy entry is seen opening its own.
  it.each([
    { id: 'my-data', label: 'My data', page: 'my-data.html' },
    { id: 'consent', label: 'Privacy and consent', page: 'consent.html' },
    { id: 'imports', label: 'Import history from ActivityWatch', page: 'imports.html' },
  ])('the tray entry $id opens $page in one of its own windows, once', async ({ id, label, page }) => {
    const f = fakeAgent();
    await startTrayApp({ ...paths, agent: f.agent });
    fake.state.windows[0]?.events.emit('closed');
    f.set(status({}), false);
    await tick();
    const entry = fake.state.trays[0]?.menu.find((m) => m.id === id);
    expect(entry?.label).toBe(label);
    const before = fake.state.windows.length;
    entry?.click?.();
    entry?.click?.();
    expect(fake.state.windows.length).toBe(before + 1);
    const win = fake.state.windows.at(-1);
    expect(win?.webContents.getURL()).toBe(`file:///opt/icarus/ui/${page}`);
    expect(win?.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, preload: paths.preloadFile });
  });

  it.each([
    { what: 'a policy change', policyChanged: true, notice: false },
    { what: 'a new employee notice to acknowledge, though nothing needs deciding,', policyChanged: false, notice: true },
  ])('$what reopens the consent window', async ({ policyChanged, notice }) => {
    const f = fakeAgent();
    await startTrayApp({ ...paths, agent: f.agent });
    fake.state.windows[0]?.events.emit('closed');
    f.set(status({}), false);
    await tick();
    expect(fake.state.windows).toHaveLength(1);
    f.set(status(policyChanged ? { state: 'waiting_for_consent' } : {}), policyChanged, notice);
    await tick();
    expect(fake.state.windows).toHaveLength(2);
    expect(fake.state.windows[1]?.webContents.getURL()).toBe('file:///opt/icarus/ui/consent.html');
  });

  it('IPC: only own windows, only contract channels, only valid payloads', async () => {
    const f = fakeAgent();
    await startTrayApp({ ...paths, agent: f.agent });
    const invoke = fake.state.handlers.get(IPC_INVOKE_CHANNEL);
    const own = fake.state.windows[0]?.webContents;
    const stranger = new fake.FakeWebContents(null);
    expect(await invoke?.({ sender: stranger }, 'status:get', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await invoke?.({ sender: own }, 'status:get', {})).toMatchObject({ ok: true, value: { state: 'waiting_for_consent' } });
    expect(await invoke?.({ sender: own }, 'shell:exec', {})).toMatchObject({ ok: false, error: { code: 'unknown_channel' } });
    expect(await invoke?.({ sender: own }, 'pause:set', { preset: 'forever' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(f.calls).not.toContain('pause:forever');
    // A window of ours that navigated elsewhere is no longer trusted.
    if (own) own.url = 'https://evil.example/';
    expect(await invoke?.({ sender: own }, 'status:get', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('powerMonitor: idle time and lock/suspend reach the agent', async () => {
    const f = fakeAgent();
    await startTrayApp({ ...paths, agent: f.agent });
    expect(await new PowerMonitorIdleSource().idleMs()).toBe(42_000);
    fake.powerMonitor.emit('lock-screen');
    fake.powerMonitor.emit('unlock-screen');
    fake.powerMonitor.emit('suspend');
    expect(f.sleeps).toEqual(['sleep', 'wake', 'sleep']);
  });
});
