import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest here, setup included (images built, the 1,000-person demo seeded,
 * browsers and server processes started), longest first. Started first, they run beside the
 * many short files instead of after them: with two workers, a long file left for the end is a
 * tail one worker runs alone. On a clean clone vitest has no timings of its own yet and would
 * run each project's files in turn, every browser and container suite last.
 */
const LONGEST = [
  // The container image: a Debian base and Node layer made once per machine, then the build.
  'test/e2e/container.test.ts',
  'test/e2e/personas.test.ts',
  'test/e2e/topology.test.ts',
  'test/e2e/web-csp.test.ts',
  'test/e2e/deb-install.test.ts',
  'test/e2e/web-fleet.test.ts',
  'cloud/scripts/backup-cli.test.ts',
  'cloud/scripts/admin.test.ts',
  'test/e2e/web-reports.test.ts',
  'test/e2e/agent-faults.test.ts',
  'cloud/src/modules/reporting/export-jobs.test.ts',
  'cloud/src/events.test.ts',
];

/** Then the other end-to-end suites (each starts real processes), then the rest in vitest's order. */
const rank = (spec: TestSpecification): number => {
  const at = LONGEST.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
  if (at !== -1) return at;
  return spec.project.name === 'e2e' ? LONGEST.length : LONGEST.length + 1;
};

class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const order = new Map(base.map((spec, i) => [spec, i]));
    return [...base].sort((a, b) => rank(a) - rank(b) || (order.get(a) ?? 0) - (order.get(b) ?? 0));
  }
}

const here = (p: string) => new URL(p, import.meta.url).pathname;

export default defineConfig({
  test: {
    // One process per file; files run two at a time on this 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    // The longest files first, so none is a tail one worker runs alone (LONGEST above).
    sequence: { sequencer: LongestFirstSequencer },
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
