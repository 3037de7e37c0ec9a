import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const PAGES = ['consent.html', 'my-data.html', 'status.html', 'imports.html', 'agent.css'] as const;

/**
 * Compiles the screens into `outDir` (HTML, CSS, app.js and bridge.js): what the loopback server
 * serves and what Electron loads from its package. ~100 ms, so the headless agent can build at
 * start in development and the packagers run it once.
 */
export async function buildUi(outDir: string): Promise<string> {
  // Loaded on call, not at import: the bundled headless agent (the .deb) ships no esbuild.
  const { build } = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { app: join(here, 'pages', 'app.ts'), bridge: join(here, 'pages', 'bridge.ts') },
    outdir: outDir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  for (const file of PAGES) copyFileSync(join(here, 'pages', file), join(outDir, file));
  return outDir;
}

/** The sandboxed preload must be one file: only 'electron' may be required from it. */
export async function buildPreload(outFile: string): Promise<void> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(here, '..', 'preload', 'index.ts')],
    outfile: outFile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: ['node22'],
    external: ['electron'],
    minify: true,
    logLevel: 'silent',
  });
}
