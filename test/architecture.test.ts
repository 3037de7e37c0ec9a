import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  const abs = join(root, dir);
  return readdirSync(abs).flatMap((name) => {
    const path = join(abs, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sourceFiles(relative(root, path));
    return /\.(ts|tsx)$/.test(name) ? [relative(root, path)] : [];
  });
}

/** Every module specifier a file imports (static, dynamic and re-exports); type-only imports included unless asked. */
function importsOf(file: string, { valuesOnly = false } = {}): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    if (valuesOnly && m[2]) continue;
    if (m[3]) found.push(m[3]);
  }
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) if (m[1]) found.push(m[1]);
  return found;
}

const rules: { files: string; forbid: (spec: string, file: string) => boolean; why: string; valuesOnly?: boolean }[] = [
  { files: 'shared/src', forbid: (s) => !s.startsWith('.') && s !== 'zod', why: 'shared imports nothing but zod' },
  { files: 'desktop-agent/src/core', forbid: (s) => s === 'electron' || /cloud|electron\//.test(s), why: 'agent core is plain Node' },
  { files: 'desktop-agent/src', forbid: (s) => /(^|\/)cloud(\/|$)|@icarus\/cloud/.test(s), why: 'the agent never imports the cloud' },
  { files: 'cloud/src', forbid: (s) => /desktop-agent|@icarus\/desktop-agent/.test(s), why: 'the cloud never imports the agent' },
  {
    files: 'desktop-agent/src',
    forbid: (s, file) => s === 'electron' && !file.includes('/electron/') && !file.includes('/preload/'),
    why: 'only the Electron shell loads electron at run time (it downloads its binary on first require)',
    valuesOnly: true,
  },
];

describe('dependency direction', () => {
  it('the scanner sees imports, so the rules below cannot pass vacuously', () => {
    expect(importsOf('shared/src/span.ts')).toContain('zod');
    expect(sourceFiles('cloud/src').length).toBeGreaterThan(20);
  });

  for (const rule of rules) {
    it(`${rule.files}: ${rule.why}`, () => {
      const offending = sourceFiles(rule.files)
        .filter((f) => !/\.test\.tsx?$/.test(f))
        .flatMap((file) => importsOf(file, { valuesOnly: rule.valuesOnly }).filter((s) => rule.forbid(s, file)).map((s) => `${file} -> ${s}`));
      expect(offending).toEqual([]);
    });
  }
});
