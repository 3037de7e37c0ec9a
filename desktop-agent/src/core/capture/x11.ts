/**
 * A minimal X11 protocol client: just enough to read window properties and the
 * MIT-SCREEN-SAVER idle time over one socket. Why not get-windows/xprop/xprintidle on
 * Linux: they spawn 3–4 processes per sample (~12 ms of CPU each second, over the 1%
 * budget), and get-windows 9.3 drops any title containing '=' because it splits xprop's
 * output on every '='. Here a sample is a few round trips on a Unix socket.
 */
import { readFileSync } from 'node:fs';
import { hostname, homedir } from 'node:os';
import { join } from 'node:path';
import { Socket, connect } from 'node:net';

interface Pending {
  resolve(reply: Buffer): void;
  reject(error: Error): void;
}

export interface XDisplayAddress {
  /** Unix socket path (or TCP host) and the display number. */
  path?: string;
  host?: string;
  port?: number;
  displayNumber: string;
  screen: number;
}

/** Parses DISPLAY (":1", ":1.0", "host:1") into where to connect. */
export function parseDisplay(display: string | undefined): XDisplayAddress | undefined {
  const match = /^([^:]*):(\d+)(?:\.(\d+))?$/.exec(display ?? '');
  if (!match) return undefined;
  const [, host = '', displayNumber = '0', screen = '0'] = match;
  if (host === '' || host === 'unix') {
    return { path: `/tmp/.X11-unix/X${displayNumber}`, displayNumber, screen: Number(screen) };
  }
  return { host, port: 6000 + Number(displayNumber), displayNumber, screen: Number(screen) };
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** Finds the MIT-MAGIC-COOKIE for this display in XAUTHORITY (or ~/.Xauthority), if any. */
export function findCookie(displayNumber: string, file?: string): { name: string; data: Buffer } | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file ?? process.env.XAUTHORITY ?? join(homedir(), '.Xauthority'));
  } catch {
    return undefined;
  }
  const host = hostname();
  let offset = 0;
  const field = (): Buffer => {
    const length = bytes.readUInt16BE(offset);
    const value = bytes.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    return value;
  };
  try {
    while (offset < bytes.length) {
      const family = bytes.readUInt16BE(offset);
      offset += 2;
      const address = field().toString('latin1');
      const number = field().toString('latin1');
      const name = field().toString('latin1');
      const data = field();
      // 256 = FamilyLocal (this host), 65535 = FamilyWild (any host).
      const hostMatches = family === 65535 || (family === 256 && address === host);
      if (hostMatches && (number === '' || number === displayNumber) && name === 'MIT-MAGIC-COOKIE-1') {
        return { name, data };
      }
    }
  } catch {
    // A truncated file: treat as no cookie rather than failing capture.
  }
  return undefined;
}

export class X11Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];
  private setup: Pending | undefined;
  private failure: Error | undefined;
  private readonly atoms = new Map<string, number>();
  root = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('X server closed the connection')));
  }

  /** Connects and completes the handshake; rejects with the server's reason when refused. */
  static open(address: XDisplayAddress, timeoutMs = 3000): Promise<X11Connection> {
    return new Promise((resolve, reject) => {
      const socket = address.path ? connect(address.path) : connect(address.port ?? 6000, address.host);
      const conn = new X11Connection(socket);
      const timer = setTimeout(() => {
        conn.close();
        reject(new Error(`X server did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      conn.setup = {
        resolve: (reply) => {
          clearTimeout(timer);
          try {
            conn.root = X11Connection.rootOfScreen(reply, address.screen);
            resolve(conn);
          } catch (error) {
            conn.close();
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      socket.once('connect', () => {
        const cookie = findCookie(address.displayNumber);
        const name = Buffer.from(cookie?.name ?? '', 'latin1');
        const data = cookie?.data ?? Buffer.alloc(0);
        const head = Buffer.alloc(12);
        head.write('l', 0, 'latin1'); // little-endian byte order for everything that follows
        head.writeUInt16LE(11, 2);
        head.writeUInt16LE(0, 4);
        head.writeUInt16LE(name.length, 6);
        head.writeUInt16LE(data.length, 8);
        socket.write(Buffer.concat([head, name, Buffer.alloc(pad4(name.length)), data, Buffer.alloc(pad4(data.length))]));
      });
    });
  }

  private static rootOfScreen(reply: Buffer, screen: number): number {
    const vendorLength = reply.readUInt16LE(24);
    const screens = reply.readUInt8(28);
    const formats = reply.readUInt8(29);
    if (screen >= screens) throw new Error(`X server has no screen ${screen}`);
    let offset = 40 + vendorLength + pad4(vendorLength) + 8 * formats;
    for (let i = 0; i < screen; i++) {
      const depths = reply.readUInt8(offset + 39);
      offset += 40;
      for (let d = 0; d < depths; d++) offset += 8 + 24 * reply.readUInt16LE(offset + 2);
    }
    return reply.readUInt32LE(offset);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.setup?.reject(error);
    this.setup = undefined;
    for (const p of this.pending.splice(0)) p.reject(error);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.setup) {
      if (this.buffer.length < 8) return;
      const total = 8 + 4 * this.buffer.readUInt16LE(6);
      if (this.buffer.length < total) return;
      const reply = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      const setup = this.setup;
      this.setup = undefined;
      if (reply.readUInt8(0) === 1) setup.resolve(reply);
      else {
        const reason = reply.subarray(8, 8 + reply.readUInt8(1)).toString('latin1');
        setup.reject(new Error(`X server refused the connection: ${reason || 'authorization required'}`));
      }
    }
    while (this.buffer.length >= 32) {
      const kind = this.buffer.readUInt8(0);
      const total = kind === 1 ? 32 + 4 * this.buffer.readUInt32LE(4) : 32;
      if (this.buffer.length < total) return;
      const message = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      // Every request sent here has a reply, so replies and errors arrive in request order.
      if (kind === 1) this.pending.shift()?.resolve(message);
      else if (kind === 0) this.pending.shift()?.reject(new Error(`X error ${message.readUInt8(1)}`));
    }
  }

  private request(bytes: Buffer): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(bytes);
    });
  }

  private static withName(opcode: number, data: number, name: string): Buffer {
    const bytes = Buffer.from(name, 'latin1');
    const out = Buffer.alloc(8 + bytes.length + pad4(bytes.length));
    out.writeUInt8(opcode, 0);
    out.writeUInt8(data, 1);
    out.writeUInt16LE(out.length / 4, 2);
    out.writeUInt16LE(bytes.length, 4);
    bytes.copy(out, 8);
    return out;
  }

  async atom(name: string): Promise<number> {
    const known = this.atoms.get(name);
    if (known !== undefined) return known;
    const reply = await this.request(X11Connection.withName(16, 0, name)); // InternAtom
    const atom = reply.readUInt32LE(8);
    this.atoms.set(name, atom);
    return atom;
  }

  /** GetProperty of any type; undefined when the window lacks it. */
  async property(window: number, name: string, maxBytes = 4096): Promise<{ type: number; format: number; value: Buffer } | undefined> {
    const out = Buffer.alloc(24);
    out.writeUInt8(20, 0); // GetProperty, delete = false
    out.writeUInt16LE(6, 2);
    out.writeUInt32LE(window, 4);
    out.writeUInt32LE(await this.atom(name), 8);
    out.writeUInt32LE(0, 12); // AnyPropertyType
    out.writeUInt32LE(0, 16);
    out.writeUInt32LE(Math.ceil(maxBytes / 4), 20);
    const reply = await this.request(out);
    const type = reply.readUInt32LE(8);
    if (type === 0) return undefined;
    const format = reply.readUInt8(1);
    const units = reply.readUInt32LE(16);
    return { type, format, value: reply.subarray(32, 32 + units * (format / 8)) };
  }

  /** The major opcode of an extension, or undefined when the server lacks it. */
  async extension(name: string): Promise<number | undefined> {
    const reply = await this.request(X11Connection.withName(98, 0, name)); // QueryExtension
    return reply.readUInt8(8) === 1 ? reply.readUInt8(9) : undefined;
  }

  /** MIT-SCREEN-SAVER QueryInfo: milliseconds since the last user input. */
  async idleMs(saverOpcode: number): Promise<number> {
    const out = Buffer.alloc(8);
    out.writeUInt8(saverOpcode, 0);
    out.writeUInt8(1, 1); // ScreenSaverQueryInfo
    out.writeUInt16LE(2, 2);
    out.writeUInt32LE(this.root, 4);
    const reply = await this.request(out);
    return reply.readUInt32LE(16);
  }

  close(): void {
    this.fail(new Error('connection closed'));
    this.socket.destroy();
  }
}
