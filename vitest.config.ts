import { defineConfig } from 'vitest/config';

const here = (p: string) => new URL(p, import.meta.url).pathname;

export default defineConfig({
  test: {
    // One process per file; files run two at a time on this 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'shared', root: here('./shared') } },
      { extends: true, test: { name: 'cloud', root: here('./cloud') } },
      { extends: true, test: { name: 'desktop-agent', root: here('./desktop-agent') } },
      { extends: true, test: { name: 'e2e', root: here('./test'), exclude: ['bench/**', '**/node_modules/**'] } },
    ],
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'hono/jsx' },
});
