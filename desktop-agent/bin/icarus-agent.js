#!/usr/bin/env -S node --lite-mode --no-expose-wasm
// Runs the headless agent (V8 lite mode: no optimising compiler; the agent does little per second and
// this keeps it near 55 MB instead of 64). Prefers the esbuild bundle (dist/icarus-agent.mjs, `npm run bundle`)
// when it is newer than every source file, so a stale bundle never hides an edit; otherwise runs
// the TypeScript entry through tsx (Node 20 cannot run .ts itself).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const bundle = here('../dist/icarus-agent.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource(here('../src'))) {
  await import(pathToFileURL(bundle).href);
} else {
  // tsx's loader in this same process, so signals (SIGINT/SIGTERM) reach the agent directly.
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(here('../src/cli.ts')).href);
}
