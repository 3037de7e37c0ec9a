// The house rules, read from the imports themselves. Each rule is a function over an import
// graph, checked against the real tree and against a planted violation, so no rule can pass
// by seeing nothing.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const path = join(abs, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sourceFiles(relative(root, path));
    return /\.(ts|tsx)$/.test(name) ? [relative(root, path)] : [];
  });
}

interface Import {
  spec: string;
  typeOnly: boolean;
}

/** Every module specifier a file imports (static, dynamic and re-exports), marked type-only where it is. */
export function importsIn(text: string): Import[] {
  const found: Import[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    if (m[3]) found.push({ spec: m[3], typeOnly: Boolean(m[2]) });
  }
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) if (m[1]) found.push({ spec: m[1], typeOnly: false });
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) if (m[1]) found.push({ spec: m[1], typeOnly: false });
  return found;
}

/** A file and what it imports: relative imports resolved to repository paths, packages as written. */
interface Node {
  file: string;
  imports: (Import & { target?: string })[];
}

function resolveRelative(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = normalize(join(dirname(from), spec));
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, `${base}.d.ts`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(join(root, candidate)) && statSync(join(root, candidate)).isFile()) return candidate;
  }
  return base;
}

function graphOf(dirs: string[]): Node[] {
  return dirs.flatMap(sourceFiles).map((file) => ({
    file,
    imports: importsIn(readFileSync(join(root, file), 'utf8')).map((i) => ({ ...i, target: resolveRelative(file, i.spec) })),
  }));
}

const isTest = (file: string) => /\.test\.tsx?$/.test(file);
const CLOUD = 'cloud/src/';
/** `cloud/src/modules/<name>/…` → name. */
const moduleOf = (file: string) => file.match(/^cloud\/src\/modules\/([^/]+)\//)?.[1];
const layerOf = (file: string) => file.match(/^cloud\/src\/(platform|adapters|ui)\//)?.[1];

type Violation = string;
type Rule = { name: string; check: (graph: Node[]) => Violation[] };

const rules: Rule[] = [
  {
    name: 'shared imports nothing but zod',
    // Its colocated tests import vitest; they are not part of what the package ships.
    check: (g) =>
      g
        .filter((n) => n.file.startsWith('shared/src/') && !isTest(n.file))
        .flatMap((n) => n.imports.filter((i) => !i.spec.startsWith('.') && i.spec !== 'zod').map((i) => `${n.file} -> ${i.spec}`)),
  },
  {
    name: 'agent core is plain Node: no electron, no cloud',
    check: (g) =>
      g
        .filter((n) => n.file.startsWith('desktop-agent/src/core/'))
        .flatMap((n) => n.imports.filter((i) => i.spec === 'electron' || /cloud|electron\//.test(i.spec)).map((i) => `${n.file} -> ${i.spec}`)),
  },
  {
    name: 'the agent and the cloud never import each other',
    check: (g) =>
      g.flatMap((n) =>
        n.imports
          .filter((i) =>
            n.file.startsWith('desktop-agent/src/')
              ? /(^|\/)cloud(\/|$)|@icarus\/cloud/.test(i.spec)
              : n.file.startsWith(CLOUD) && /desktop-agent|@icarus\/desktop-agent/.test(i.spec),
          )
          .map((i) => `${n.file} -> ${i.spec}`),
      ),
  },
  {
    name: 'only the Electron shell loads electron at run time (it downloads its binary on first require)',
    check: (g) =>
      g
        .filter((n) => n.file.startsWith('desktop-agent/src/') && !isTest(n.file) && !n.file.includes('/electron/') && !n.file.includes('/preload/'))
        .flatMap((n) => n.imports.filter((i) => i.spec === 'electron' && !i.typeOnly).map((i) => `${n.file} -> ${i.spec}`)),
  },
  {
    // The agent's pages run in sandboxed windows (and in a plain browser against the local UI
    // server): what they may reach is the shared vocabulary, each other and the preload's API,
    // never Node, electron or the agent's core, which would not load there or would widen the
    // window's reach beyond the IPC contract.
    name: "the agent's pages import only each other, shared and the preload's API",
    check: (g) =>
      g
        .filter((n) => n.file.startsWith('desktop-agent/src/ui/pages/') && !isTest(n.file))
        .flatMap((n) =>
          n.imports
            .filter(
              (i) => i.spec !== '@icarus/shared' && i.target !== 'desktop-agent/src/preload/api.ts' && !i.target?.startsWith('desktop-agent/src/ui/pages/'),
            )
            .map((i) => `${n.file} -> ${i.target ?? i.spec}`),
        ),
  },
  {
    name: 'a module uses another only through its index.ts',
    check: (g) =>
      g.flatMap((n) => {
        const from = moduleOf(n.file);
        // The cloud's own scripts (the seed, the admin command) use modules as any module does.
        if (!n.file.startsWith(CLOUD) && !(n.file.startsWith('cloud/scripts/') && !isTest(n.file))) return [];
        return n.imports
          .filter((i) => {
            const to = i.target && moduleOf(i.target);
            // drizzle-kit reads every module's tables from the one schema file; nothing imports that file.
            if (n.file === 'cloud/src/schema.ts' && i.target?.endsWith('/tables.ts')) return false;
            return to !== undefined && to !== from && i.target !== `cloud/src/modules/${to}/index.ts`;
          })
          .map((i) => `${n.file} -> ${i.target}`);
      }),
  },
  {
    name: 'platform, adapters and ui import no module',
    check: (g) =>
      g
        .filter((n) => layerOf(n.file) !== undefined)
        .flatMap((n) => n.imports.filter((i) => i.target && moduleOf(i.target)).map((i) => `${n.file} -> ${i.target}`)),
  },
  {
    name: 'platform imports no adapter and no ui',
    check: (g) =>
      g
        .filter((n) => layerOf(n.file) === 'platform')
        .flatMap((n) => n.imports.filter((i) => i.target && /^cloud\/src\/(adapters|ui)\//.test(i.target)).map((i) => `${n.file} -> ${i.target}`)),
  },
  {
    name: 'drizzle only in stores and tables (and the database client)',
    check: (g) =>
      g
        .filter((n) => n.file.startsWith(CLOUD) && !isTest(n.file) && !/(^|\/|-)store\.ts$|\/tables\.ts$|^cloud\/src\/platform\/db\//.test(n.file))
        .flatMap((n) => n.imports.filter((i) => i.spec.startsWith('drizzle-orm')).map((i) => `${n.file} -> ${i.spec}`)),
  },
  {
    name: 'services hold the rules: no hono and no drizzle in service.ts',
    check: (g) =>
      g
        .filter((n) => n.file.startsWith(CLOUD) && n.file.endsWith('/service.ts'))
        .flatMap((n) => n.imports.filter((i) => /^(hono|@hono\/|drizzle-orm)/.test(i.spec)).map((i) => `${n.file} -> ${i.spec}`)),
  },
  {
    name: 'nothing in src imports test support',
    check: (g) =>
      g
        .filter((n) => /^(cloud|desktop-agent|shared)\/src\//.test(n.file) && !isTest(n.file))
        .flatMap((n) => n.imports.filter((i) => i.target && /^(cloud|desktop-agent)\/test\/|^test\//.test(i.target)).map((i) => `${n.file} -> ${i.target}`)),
  },
  {
    name: 'no import cycles between files',
    check: (g) => cyclesOf(g.filter((n) => !isTest(n.file)).map((n) => [n.file, n.imports.flatMap((i) => (i.target ? [i.target] : []))])),
  },
  {
    name: 'the cloud modules form a DAG (value and type imports)',
    check: (g) => {
      const edges = new Map<string, Set<string>>();
      for (const n of g) {
        const from = moduleOf(n.file);
        if (!from || isTest(n.file)) continue;
        for (const i of n.imports) {
          const to = i.target && moduleOf(i.target);
          if (to && to !== from) edges.set(from, (edges.get(from) ?? new Set()).add(to));
        }
      }
      return cyclesOf([...edges].map(([from, to]) => [from, [...to]]));
    },
  },
];

/** Each strongly connected component of more than one node (or a self-loop), named by its members. */
function cyclesOf(edges: [string, string[]][]): Violation[] {
  const graph = new Map(edges);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: Violation[] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(`cycle: ${component.sort().join(' <-> ')}`);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const tree = graphOf(['shared/src', 'desktop-agent/src', 'cloud/src', 'cloud/test', 'cloud/scripts']);

/** One planted violation per rule: a graph that breaks it and nothing else. */
const planted: Record<string, Node[]> = {
  'shared imports nothing but zod': [{ file: 'shared/src/x.ts', imports: [{ spec: 'hono', typeOnly: false }] }],
  'agent core is plain Node: no electron, no cloud': [{ file: 'desktop-agent/src/core/x.ts', imports: [{ spec: 'electron', typeOnly: true }] }],
  'the agent and the cloud never import each other': [{ file: 'cloud/src/x.ts', imports: [{ spec: '@icarus/desktop-agent', typeOnly: false }] }],
  'only the Electron shell loads electron at run time (it downloads its binary on first require)': [
    { file: 'desktop-agent/src/cli.ts', imports: [{ spec: 'electron', typeOnly: false }] },
  ],
  "the agent's pages import only each other, shared and the preload's API": [
    {
      file: 'desktop-agent/src/ui/pages/status-page.ts',
      imports: [{ spec: '../../core/store/store', typeOnly: false, target: 'desktop-agent/src/core/store/store.ts' }],
    },
    { file: 'desktop-agent/src/ui/pages/dom.ts', imports: [{ spec: 'node:fs', typeOnly: false }] },
  ],
  'a module uses another only through its index.ts': [
    { file: 'cloud/scripts/seed-demo.ts', imports: [{ spec: '../src/modules/consent/store', typeOnly: false, target: 'cloud/src/modules/consent/store.ts' }] },
    { file: 'cloud/src/schema.ts', imports: [{ spec: './modules/audit/store', typeOnly: false, target: 'cloud/src/modules/audit/store.ts' }] },
    {
      file: 'cloud/src/modules/reporting/service.ts',
      imports: [{ spec: '../analytics/store', typeOnly: true, target: 'cloud/src/modules/analytics/store.ts' }],
    },
  ],
  'platform, adapters and ui import no module': [
    { file: 'cloud/src/platform/env.ts', imports: [{ spec: '../modules/devices', typeOnly: true, target: 'cloud/src/modules/devices/index.ts' }] },
  ],
  'platform imports no adapter and no ui': [
    { file: 'cloud/src/platform/x.ts', imports: [{ spec: '../ui/page', typeOnly: false, target: 'cloud/src/ui/page.tsx' }] },
  ],
  'drizzle only in stores and tables (and the database client)': [
    { file: 'cloud/src/modules/audit/viewer.ts', imports: [{ spec: 'drizzle-orm', typeOnly: false }] },
  ],
  'services hold the rules: no hono and no drizzle in service.ts': [
    { file: 'cloud/src/modules/audit/service.ts', imports: [{ spec: 'hono', typeOnly: true }] },
  ],
  'nothing in src imports test support': [
    { file: 'cloud/src/start.ts', imports: [{ spec: '../test/support/cloud', typeOnly: false, target: 'cloud/test/support/cloud.ts' }] },
  ],
  'no import cycles between files': [
    { file: 'cloud/src/a.ts', imports: [{ spec: './b', typeOnly: true, target: 'cloud/src/b.ts' }] },
    { file: 'cloud/src/b.ts', imports: [{ spec: './a', typeOnly: false, target: 'cloud/src/a.ts' }] },
  ],
  'the cloud modules form a DAG (value and type imports)': [
    { file: 'cloud/src/modules/a/index.ts', imports: [{ spec: '../b', typeOnly: true, target: 'cloud/src/modules/b/index.ts' }] },
    { file: 'cloud/src/modules/b/index.ts', imports: [{ spec: '../a', typeOnly: true, target: 'cloud/src/modules/a/index.ts' }] },
  ],
};

describe('house rules', () => {
  it('the scanner sees imports of every kind, so the rules cannot pass vacuously', () => {
    expect(
      importsIn("import type { A } from './a';\nexport { b } from \"./b\";\nconst c = await import('./c');\nimport './d';").map((i) => [i.spec, i.typeOnly]),
    ).toEqual([
      ['./a', true],
      ['./b', false],
      ['./d', false],
      ['./c', false],
    ]);
    expect(tree.length).toBeGreaterThan(150);
    expect(tree.find((n) => n.file === 'cloud/src/app.ts')?.imports.some((i) => i.target === 'cloud/src/modules/audit/index.ts')).toBe(true);
  });

  it('every rule has a planted violation', () => {
    expect(Object.keys(planted).sort()).toEqual(rules.map((r) => r.name).sort());
  });

  for (const rule of rules) {
    it(rule.name, () => {
      expect(rule.check(planted[rule.name] ?? []), 'the planted violation is found').not.toEqual([]);
      expect(rule.check(tree)).toEqual([]);
    });
  }

  it('every cloud module has one import surface that the composition root uses', () => {
    const modules = readdirSync(join(root, 'cloud/src/modules'));
    const app = readFileSync(join(root, 'cloud/src/app.ts'), 'utf8');
    for (const name of modules) {
      expect(existsSync(join(root, 'cloud/src/modules', name, 'index.ts')), `${name}/index.ts`).toBe(true);
      expect(app, `app.ts builds ${name}`).toMatch(new RegExp(`create${name[0]?.toUpperCase()}${name.slice(1)}Module\\(`));
    }
  });
});
