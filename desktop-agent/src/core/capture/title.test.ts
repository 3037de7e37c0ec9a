import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { redactionProblems, transformTitle, type TitlePolicy } from './title';

const redacting = (...patterns: string[]): TitlePolicy => ({
  titleMode: 'redacted',
  redactionRules: patterns.map((pattern) => ({ pattern, replacement: '[x]' })),
});
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('redaction rules on the device', () => {
  it('a pattern that backtracks exponentially in RegExp runs in linear time: the agent does not freeze', () => {
    // In its own process with a deadline, so a backtracking engine fails this test instead of
    // hanging the test run (V8 needs minutes for 30 characters; RE2 answers at once).
    const title = fileURLToPath(new URL('./title.ts', import.meta.url));
    const script = `import(${JSON.stringify(title)}).then(({ transformTitle }) => {
      const policy = { titleMode: 'redacted', redactionRules: [{ pattern: '^(a|a)*$', replacement: '[x]' }] };
      process.stdout.write(JSON.stringify([transformTitle('a'.repeat(30) + '!', policy), transformTitle('a'.repeat(30), policy)]));
    });`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.signal, `killed after 20 s: the pattern backtracked (stderr: ${run.stderr})`).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(['a'.repeat(30) + '!', '[x]']);
  });

  it('keeps what JavaScript patterns meant: classes, groups in the replacement, Unicode', () => {
    expect(
      transformTitle('Inbox (3) - ann@example.com', {
        titleMode: 'redacted',
        redactionRules: [
          { pattern: '\\(\\d+\\)', replacement: '(n)' },
          { pattern: '([\\w.]+)@([\\w.]+)', replacement: '[$2]' },
        ],
      }),
    ).toBe('Inbox (n) - [example.com]');
    expect(transformTitle('Zürich 東京 Zürich', redacting('Zürich'))).toBe('[x] 東京 [x]');
  });

  it('a pattern RE2 cannot run (backreference, lookaround) is reported, and the title is hashed, never kept in clear', () => {
    const raw = 'secret: hunter2 hunter2 — Notes';
    for (const policy of [redacting('(\\w+) \\1'), redacting('\\d+', '(?<=secret: )\\w+')]) {
      expect(transformTitle(raw, policy)).toBe(sha256(raw));
      const problems = redactionProblems(policy);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^redaction rule \d \(".+"\) cannot run on this device: .+; window titles are kept only as a SHA-256 hash/);
    }
    expect(redactionProblems(redacting('\\d+'))).toEqual([]);
    expect(redactionProblems({ ...redacting('(\\w+) \\1'), titleMode: 'full' })).toEqual([]);
  });
});
