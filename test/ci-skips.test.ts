// .ci/run fails when a test is skipped that is not on its allow-list: checked here on reports
// shaped like vitest's JSON output, so a green CI cannot come from suites that did not run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = new URL('../.ci/check-skips.mjs', import.meta.url).pathname;

function check(tests: { file: string; name: string; status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' }[]) {
  const dir = mkdtempSync(join(tmpdir(), 'icarus-skips-'));
  const files = [...new Set(tests.map((t) => t.file))].map((file) => ({
    name: file,
    assertionResults: tests.filter((t) => t.file === file).map((t) => ({ fullName: t.name, status: t.status })),
  }));
  const count = (s: string[]) => tests.filter((t) => s.includes(t.status)).length;
  const report = {
    numTotalTests: tests.length,
    numPassedTests: count(['passed']),
    numFailedTests: count(['failed']),
    numPendingTests: count(['skipped', 'pending']),
    numTodoTests: count(['todo']),
    testResults: files,
  };
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  const run = spawnSync(process.execPath, [script, join(dir, 'report.json')], { encoding: 'utf8' });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

const allowed = {
  file: '/ci/clone/cloud/src/modules/notification/delivery.test.ts',
  name: 'notifications on pglite two workers sharing the outbox never deliver the same message twice',
  status: 'skipped' as const,
};

describe('.ci/check-skips.mjs', () => {
  it('passes a run whose only skip is on the allow-list, and prints the plain closing line', () => {
    const result = check([{ file: '/ci/clone/test/e2e/a.test.ts', name: 'works', status: 'passed' }, allowed]);
    expect(result.code).toBe(0);
    expect(result.out.trim()).toBe('1 passed, 0 failed, 1 skipped');
  });

  it('fails when an e2e suite is skipped (no X display, no Chromium, no dpkg) and names it', () => {
    const result = check([
      { file: '/ci/clone/test/e2e/a.test.ts', name: 'works', status: 'passed' },
      { file: '/ci/clone/test/e2e/ui-screens.test.ts', name: 'agent screens in Chromium (loopback server) consent screen', status: 'skipped' },
      allowed,
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('ui-screens.test.ts > agent screens in Chromium (loopback server) consent screen');
  });

  it('fails on a todo, and on a run where no test ran at all', () => {
    expect(check([{ file: '/x/b.test.ts', name: 'later', status: 'todo' }]).code).toBe(1);
    expect(check([]).code).toBe(1);
  });

  it('the allowed skip is allowed only for PGlite: the same test skipped on PostgreSQL fails', () => {
    expect(check([{ ...allowed, name: allowed.name.replace('pglite', 'postgres') }]).code).toBe(1);
  });
});
