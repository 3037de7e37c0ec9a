#!/usr/bin/env node
// Launches the TypeScript entry through tsx (Node 20 cannot run .ts itself). A bundled build
// (dist/icarus-agent.mjs, made by `npm run bundle`) is preferred when present: it starts faster
// and uses less memory.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const bundle = here('../dist/icarus-agent.mjs');
if (existsSync(bundle)) {
  await import(bundle);
} else {
  const require = createRequire(import.meta.url);
  const tsx = require.resolve('tsx/cli');
  const child = spawn(process.execPath, [tsx, here('../src/cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Forward stop signals so `run` closes its open span.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
