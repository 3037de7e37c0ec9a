import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../test/support/cloud';
import { openApiPath } from './platform/openapi';

/**
 * Operations the app serves under /v1 or /api that the document may leave out, each with its
 * reason. None today: a route added without documentation fails the first test below.
 */
const UNDOCUMENTED: readonly string[] = [];

/**
 * Redocly findings accepted, by rule and where. Both JWKS endpoints are public, unthrottled
 * and cannot fail on input, so they have no 4xx answer to document; the project states no
 * licence, and the document does not invent one.
 */
const ACCEPTED_LINT = ['operation-4xx-response GET /v1/receipt-keys', 'operation-4xx-response GET /v1/audit-keys', 'info-license'];

type Document = { paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>; servers?: { url: string }[] };

describe('the OpenAPI document', () => {
  let cloud: TestCloud;
  let doc: Document;

  beforeAll(async () => {
    cloud = await startTestCloud('pglite', { PUBLIC_URL: 'https://icarus.example.test' });
    doc = (await (await cloud.cloud.app.request('/openapi.json')).json()) as Document;
  }, 60_000);
  afterAll(async () => {
    await cloud?.stopAll();
  });

  it('documents every /v1 and /api operation the app serves', () => {
    const served = new Set(
      cloud.cloud.app.routes.filter((r) => /^\/(v1|api|scim)(\/|$)/.test(r.path) && r.method !== 'ALL').map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    const missing = [...served].filter((op) => !documented.has(op) && !UNDOCUMENTED.includes(op));
    expect(
      missing,
      `Served but not in /openapi.json: ${missing.join(', ')}. Document each in its module's openapi.ts with documentOperations() ` +
        '(platform/openapi.ts: operationId, security, the request schemas the handler validates with, error responses), ' +
        "and call that module's document function in app.ts.",
    ).toEqual([]);
    // And nothing documented that is not served (a renamed route leaves a stale entry).
    expect([...documented].filter((op) => !served.has(op))).toEqual([]);
  });

  it('names each operation once, says who may call it, and names this server', () => {
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p));
    const ids = ops.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ops.every((o) => Array.isArray(o.security))).toBe(true);
    // The public ones say so with an empty list.
    expect(doc.paths['/api/session']?.post?.security).toEqual([]);
    expect(doc.paths['/v1/devices/enroll']?.post?.security).toEqual([]);
    expect(doc.servers?.map((s) => s.url)).toEqual(['https://icarus.example.test']);
  });

  it('is readable at /api-docs: every operation on a page that loads nothing from elsewhere', async () => {
    const response = await cloud.cloud.app.request('/api-docs');
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'|default-src 'self'/);
    const html = await response.text();
    for (const op of Object.values(doc.paths).flatMap((p) => Object.values(p))) expect(html).toContain(`id="${op.operationId ?? 'missing'}"`);
    expect(html).toContain('<code>POST /api/notifications/webhooks</code>');
    // No script, no inline style, nothing from another origin.
    expect(html).not.toMatch(/<script|style=|(src|href)="https?:/);
  });

  it('passes Redocly lint with its recommended rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'icarus-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
      const run = await promisify(execFile)(process.execPath, [cli, 'lint', file, '--extends=recommended', '--format=json'], {
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', CI: 'true' },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
      const report = JSON.parse(run.stdout) as { problems: { ruleId: string; message: string; location: { pointer: string }[] }[] };
      const found = report.problems.map((p) => {
        const pointer = p.location[0]?.pointer ?? '';
        const op = /^#\/paths\/([^/]+)\/(\w+)/.exec(pointer);
        const where = op ? ` ${op[2]?.toUpperCase()} ${decodeURIComponent((op[1] ?? '').replace(/~1/g, '/'))}` : '';
        return { key: `${p.ruleId}${where}`, message: `${p.ruleId}${where}: ${p.message} (${pointer})` };
      });
      expect(found.filter((f) => !ACCEPTED_LINT.includes(f.key)).map((f) => f.message)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
