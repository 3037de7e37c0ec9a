import { readFileSync } from 'node:fs';
import { X11Connection, parseDisplay } from './x11';
import type { FrontWindow, IdleSource, SourceHealth, WindowSource } from './sources';

/** Not reconnecting more often than this keeps a missing display from becoming a busy loop. */
const RETRY_MS = 10_000;

/**
 * The front window and the idle time from the X server over one shared connection,
 * reconnecting (at most every 10 s) after the server goes away.
 */
export class X11Capture {
  private connection: X11Connection | undefined;
  private connecting: Promise<X11Connection | undefined> | undefined;
  private lastAttempt = -Infinity;
  private problem: string | undefined = 'not connected yet';
  private saverOpcode: number | undefined | null = null;

  constructor(
    private readonly display: string | undefined = process.env.DISPLAY,
    private readonly now: () => number = Date.now,
  ) {}

  readonly window: WindowSource = {
    name: 'x11-window',
    frontWindow: () => this.frontWindow(),
    health: () => this.health(),
    close: () => this.close(),
  };

  readonly idle: IdleSource = {
    name: 'x11-idle',
    idleMs: () => this.idleMs(),
    health: () => (this.saverOpcode === undefined ? { ok: false, problem: 'X server lacks MIT-SCREEN-SAVER' } : this.health()),
    close: () => this.close(),
  };

  private health(): SourceHealth {
    return this.problem === undefined ? { ok: true } : { ok: false, problem: this.problem };
  }

  private async conn(): Promise<X11Connection | undefined> {
    if (this.connection) return this.connection;
    if (this.connecting) return this.connecting;
    if (this.now() - this.lastAttempt < RETRY_MS) return undefined;
    this.lastAttempt = this.now();
    const address = parseDisplay(this.display);
    if (!address) {
      this.problem = this.display ? `cannot parse DISPLAY=${this.display}` : 'unavailable: no DISPLAY (no X session)';
      return undefined;
    }
    this.connecting = X11Connection.open(address).then(
      (conn) => {
        this.connection = conn;
        this.problem = undefined;
        return conn;
      },
      (error: unknown) => {
        this.problem = `unavailable: cannot connect to X display ${this.display ?? ''}: ${error instanceof Error ? error.message : String(error)}`;
        return undefined;
      },
    );
    try {
      return await this.connecting;
    } finally {
      this.connecting = undefined;
    }
  }

  private lost(error: unknown): undefined {
    this.problem = `X connection lost: ${error instanceof Error ? error.message : String(error)}`;
    this.connection?.close();
    this.connection = undefined;
    return undefined;
  }

  async frontWindow(): Promise<FrontWindow | undefined> {
    const conn = await this.conn();
    if (!conn) return undefined;
    try {
      const active = await conn.property(conn.root, '_NET_ACTIVE_WINDOW');
      if (!active || active.format !== 32 || active.value.length < 4) {
        this.problem = 'no _NET_ACTIVE_WINDOW: the window manager does not follow EWMH';
        return undefined;
      }
      this.problem = undefined;
      const id = active.value.readUInt32LE(0);
      if (id === 0) return undefined;
      return await readWindow(conn, id);
    } catch (error) {
      // A window closing between two requests gives BadWindow: no front window, not a failure.
      if (error instanceof Error && /^X error 3$/.test(error.message)) return undefined;
      return this.lost(error);
    }
  }

  async idleMs(): Promise<number | undefined> {
    const conn = await this.conn();
    if (!conn) return undefined;
    try {
      if (this.saverOpcode === null) this.saverOpcode = await conn.extension('MIT-SCREEN-SAVER');
      if (this.saverOpcode === undefined) return undefined;
      return await conn.idleMs(this.saverOpcode);
    } catch (error) {
      return this.lost(error);
    }
  }

  close(): void {
    this.connection?.close();
    this.connection = undefined;
  }
}

async function readWindow(conn: X11Connection, id: number): Promise<FrontWindow> {
  const [netName, wmName, wmClass, pid] = await Promise.all([
    conn.property(id, '_NET_WM_NAME'),
    conn.property(id, 'WM_NAME'),
    conn.property(id, 'WM_CLASS'),
    conn.property(id, '_NET_WM_PID'),
  ]);
  let title = '';
  if (netName) title = netName.value.toString('utf8');
  // WM_NAME is Latin-1 (STRING) or COMPOUND_TEXT; for the latter we keep the Latin-1 reading
  // minus its ISO-2022 escape sequences: modern toolkits set _NET_WM_NAME anyway.
  else if (wmName) title = wmName.value.toString('latin1').replace(/\x1b[\x20-\x2f]*[\x30-\x7e]/g, '');
  const classes = wmClass ? wmClass.value.toString('latin1').split('\0').filter(Boolean) : [];
  let app = classes.at(-1);
  if (!app && pid && pid.value.length >= 4) app = commOf(pid.value.readUInt32LE(0));
  return { app: app || 'unknown', title };
}

function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
