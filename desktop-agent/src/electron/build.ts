import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import type { AgentState } from '@icarus/shared';
import { buildPreload, buildUi } from '../ui/build';
import { TRAY_ICONS } from './tray-state';

const here = new URL('.', import.meta.url).pathname;

/** Tray colours by state: green recording, grey paused, amber waiting, blue offline, red failing, slate revoked. */
const STATE_COLOUR: Record<AgentState, [number, number, number]> = {
  recording: [20, 140, 60],
  paused: [120, 120, 130],
  waiting_for_consent: [210, 140, 0],
  offline: [40, 90, 200],
  capture_failing: [200, 30, 40],
  not_enrolled: [210, 140, 0],
  revoked: [90, 90, 100],
};

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A filled anti-aliased disc as an RGBA PNG: the tray icons are drawn here, not kept as binaries. */
export function discPng(size: number, [r, g, b]: [number, number, number]): Buffer {
  const rows: Buffer[] = [];
  const c = (size - 1) / 2;
  const radius = size * 0.42;
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const alpha = Math.max(0, Math.min(1, radius - Math.hypot(x - c, y - c) + 0.5));
      row.set([r, g, b, Math.round(alpha * 255)], 1 + x * 4);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Everything electron-builder packages from desktop-agent/build: the main process as one CommonJS
 * file (electron and native modules external), the sandboxed preload, the screens and the icons.
 */
export async function buildElectronApp(outDir: string): Promise<void> {
  await build({
    entryPoints: [join(here, 'index.ts')],
    outfile: join(outDir, 'electron', 'index.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: ['node22'],
    external: ['electron', 'electron-updater', 'better-sqlite3', 'get-windows'],
    logLevel: 'silent',
  });
  await buildPreload(join(outDir, 'preload.cjs'));
  await buildUi(join(outDir, 'ui'));
  const icons = join(outDir, 'icons');
  mkdirSync(icons, { recursive: true });
  for (const [state, file] of Object.entries(TRAY_ICONS) as [AgentState, string][]) {
    writeFileSync(join(icons, file), discPng(22, STATE_COLOUR[state]));
    writeFileSync(join(icons, file.replace('.png', '@2x.png')), discPng(44, STATE_COLOUR[state]));
  }
  writeFileSync(join(icons, '512x512.png'), discPng(512, STATE_COLOUR.recording));
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  await buildElectronApp(process.argv[2] ?? join(here, '..', '..', 'build'));
}
