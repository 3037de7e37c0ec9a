// Static files of the pages, served by this server (no CDN) so a strict CSP (`'self'` only) holds.
// Pages link each file under a name carrying a hash of its content, so browsers may keep it for a
// year: a changed file gets a new URL, and a page never mixes an old stylesheet with a new script.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';

const require = createRequire(import.meta.url);
const here = (name: string) => new URL(`./assets/${name}`, import.meta.url).pathname;
const CSS = 'text/css; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const SVG = 'image/svg+xml';

const FILES = {
  'app.css': { path: () => here('app.css'), type: CSS },
  'report.css': { path: () => here('report.css'), type: CSS },
  'report.js': { path: () => here('report.js'), type: JS },
  'copy.js': { path: () => here('copy.js'), type: JS },
  'icon.svg': { path: () => here('icon.svg'), type: SVG },
  'uplot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: CSS },
  'uplot.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: JS },
} as const satisfies Record<string, { path: () => string; type: string }>;

export type AssetName = keyof typeof FILES;
const NAMES = Object.keys(FILES).filter((n): n is AssetName => n in FILES);

interface LoadedAsset {
  name: AssetName;
  hashedName: string;
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

/** `report.js` -> `report.1a2b3c4d5e.js`: the hash goes before the last extension so the type stays visible. */
function withHash(name: string, hash: string) {
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

// Read once, on first use: building the app opens no file, and a page render after that costs a map lookup.
const loaded = new Map<AssetName, LoadedAsset>();
function load(name: AssetName): LoadedAsset {
  const known = loaded.get(name);
  if (known) return known;
  const file = FILES[name];
  const body = new Uint8Array(readFileSync(file.path()));
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const asset = { name, hashedName: withHash(name, hash), body, type: file.type, etag: `"${hash}"` };
  loaded.set(name, asset);
  return asset;
}

/** The URL a page links a file by; it changes whenever the file's content does. */
export function assetUrl(name: AssetName): string {
  return `${ASSETS_PREFIX}/${load(name).hashedName}`;
}

export const ASSETS_PREFIX = '/assets';
/** A hashed URL names one exact content: cache it for a year. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** A bare name (`/assets/report.js`) may change under the same URL: revalidate every time. */
export const REVALIDATE = 'public, no-cache';

/** The `/assets` sub-app: `/<name>.<hash>.<ext>` for a long cache, `/<name>` revalidated by ETag. */
export function assetRoutes() {
  let byUrlName: Map<string, { asset: LoadedAsset; cache: string }> | undefined;
  const lookup = (file: string) => {
    if (!byUrlName) {
      byUrlName = new Map();
      for (const name of NAMES) {
        const asset = load(name);
        byUrlName.set(asset.hashedName, { asset, cache: IMMUTABLE });
        byUrlName.set(name, { asset, cache: REVALIDATE });
      }
    }
    return byUrlName.get(file);
  };
  return new Hono().get('/:file', (c) => {
    const found = lookup(c.req.param('file'));
    if (!found) return c.notFound();
    const { asset, cache } = found;
    const headers = { 'content-type': asset.type, 'cache-control': cache, etag: asset.etag };
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
    return c.body(asset.body, 200, headers);
  });
}
