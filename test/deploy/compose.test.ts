/**
 * compose.yaml against the Compose Specification's JSON schema (vendored in deploy/schemas/),
 * plus the rules of this topology the schema cannot know: one image for every role, nobody
 * starts before the migration has finished, health on /readyz, secrets only as files, only the
 * edge reachable from outside. Then the secret maker, and the loader that reads those files.
 */
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import draft7 from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  secrets?: (string | { source: string; target?: string })[];
  networks?: string[];
  ports?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean }>;
  secrets: Record<string, { file: string }>;
}

const schema = JSON.parse(read('deploy/schemas/compose-spec.json')) as { $schema: string };
const ajv = new Ajv({ allErrors: true, strict: false });
// The schema names draft-07 by its https address; ajv ships that meta-schema under the http one.
ajv.addMetaSchema({ ...draft7, $id: schema.$schema });
const validate = ajv.compile(schema);
const loadCompose = (text: string) => parse(text, { merge: true }) as Compose;
const compose = loadCompose(read('compose.yaml'));
const cloudServices = ['api-1', 'api-2', 'worker', 'scheduler'];
const secretNames = (s: Service) => (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source));

describe('compose.yaml', () => {
  it('is valid under the Compose Specification schema', () => {
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('is refused by the same schema with a misspelt key or a wrong type (the check can fail)', () => {
    const misspelt = loadCompose(read('compose.yaml').replace('healthcheck:\n    test:', 'healthchek:\n    test:'));
    expect(validate(misspelt)).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/healthchek/);
    const wrongType = structuredClone(compose);
    (wrongType.services['worker'] as unknown as { depends_on: number }).depends_on = 42;
    expect(validate(wrongType)).toBe(false);
  });

  it('runs every role from one image, each with its ROLES, after the migration has finished', () => {
    const images = new Set(cloudServices.map((name) => compose.services[name]?.image));
    expect([...images]).toEqual([compose.services['migrate']?.image]);
    expect(cloudServices.map((name) => compose.services[name]?.environment?.['ROLES'])).toEqual(['api', 'api', 'worker', 'scheduler']);
    for (const name of cloudServices) {
      expect(compose.services[name]?.depends_on?.['migrate'], name).toEqual({ condition: 'service_completed_successfully' });
      expect(compose.services[name]?.healthcheck?.test, name).toEqual(['CMD', 'node', 'deploy/healthcheck.mjs', '/readyz']);
      expect(compose.services[name]?.read_only, name).toBe(true);
    }
    const migrate = compose.services['migrate'];
    expect(migrate?.command).toContain('cloud/scripts/migrate.ts');
    expect(migrate?.restart).toBe('no');
    expect(migrate?.depends_on?.['postgres']).toEqual({ condition: 'service_healthy' });
    // The edge routes to both api processes, and waits until they are ready.
    const edge = compose.services['edge'];
    expect([edge?.environment?.['ICARUS_CLOUD_1'], edge?.environment?.['ICARUS_CLOUD_2']]).toEqual(['api-1:8787', 'api-2:8787']);
    expect(Object.keys(edge?.depends_on ?? {})).toEqual(['api-1', 'api-2']);
  });

  it('gives health checks to every long-running service', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'migrate') continue;
      expect(service.healthcheck?.test?.length, name).toBeGreaterThan(1);
    }
  });

  it('passes keys and passwords only as secret files, each one mounted where it is named', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        // A key, secret, password or credentialed URL in the environment itself would be visible in `inspect`.
        if (/KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|AMQP_URL/.test(variable)) expect(variable, `${name}: ${variable}`).toMatch(/_FILE$/);
        if (variable.endsWith('_FILE')) {
          const secret = /^\/run\/secrets\/([a-z_]+)$/.exec(value)?.[1];
          expect(secret && secretNames(service).includes(secret), `${name}: ${variable} names a mounted secret`).toBe(true);
        }
      }
      for (const secret of secretNames(service)) expect(compose.secrets[secret], `${name}: secret ${secret} is defined`).toBeDefined();
    }
    for (const { file } of Object.values(compose.secrets)) expect(file).toMatch(/^\.\/deploy\/compose\/secrets\//);
    expect(read('.gitignore')).toMatch(/^\/deploy\/compose\/secrets\/$/m);
    expect(read('.dockerignore')).toMatch(/^deploy\/compose\/secrets$/m);
  });

  it('publishes only the edge, and keeps the data services on a network with no way out', () => {
    const published = Object.entries(compose.services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(published.map(([name]) => name)).toEqual(['edge']);
    expect(compose.networks['data']?.internal).toBe(true);
    for (const name of ['postgres', 'redis', 'rabbitmq']) expect(compose.services[name]?.networks, name).toEqual(['data']);
  });
});

describe('the image holds what compose and Kubernetes run in it', () => {
  // A script named in a command but missing from the image fails only at deploy time: check here.
  const runtime = read('Dockerfile').split(/^FROM .* AS runtime$/m)[1] ?? '';
  const copied = new Set(
    [...runtime.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => {
      const parts = (m[1] ?? '').trim().split(/\s+/);
      const dest = parts.pop() ?? '';
      return parts.map((src) => (dest.endsWith('/') ? `${dest}${src.split('/').pop()}` : dest));
    }),
  );
  const ignored = read('.dockerignore');
  const scripts = (args: string[]) => args.filter((a) => /^(\.\/)?(cloud|deploy)\/[\w/.-]+\.(ts|mjs)$/.test(a)).map((a) => a.replace(/^\.\//, ''));
  const kubernetes = readFileSync(join(root, 'deploy/kubernetes/production/icarus-nova.yaml'), 'utf8');
  const named = new Set([
    ...Object.values(compose.services).flatMap((s) => [...scripts(s.command ?? []), ...scripts(s.healthcheck?.test ?? [])]),
    ...[...kubernetes.matchAll(/^\s+- (cloud\/scripts\/\S+|deploy\/\S+)$/gm)].map((m) => m[1] ?? ''),
    ...scripts(
      /^CMD (.+)$/m
        .exec(runtime)?.[1]
        ?.match(/"[^"]+"/g)
        ?.map((q) => q.slice(1, -1)) ?? [],
    ),
    ...[...runtime.matchAll(/--import=\/app\/(\S+?)[\s"\\]/g)].map((m) => m[1] ?? ''),
  ]);

  it('copies every script they name into the runtime stage, and the build context sends it', () => {
    expect([...named].sort()).toEqual(['cloud/scripts/migrate.ts', 'cloud/src/server.ts', 'deploy/env-files.mjs', 'deploy/healthcheck.mjs']);
    for (const file of named) {
      const dir = `${file.slice(0, file.lastIndexOf('/'))}/`;
      expect(copied.has(file) || [...copied].some((c) => c === dir.replace(/\/$/, '') || file.startsWith(`${c}/`)), `${file} is copied into the image`).toBe(
        true,
      );
    }
    expect(ignored).toMatch(/^!cloud\/scripts\/migrate\.ts$/m);
  });
});

describe('deploy/compose/make-secrets.sh', () => {
  it('makes every secret compose mounts, consistent with each other, and keeps them on a re-run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'icarus-secrets-'));
    try {
      const run = () => spawnSync('sh', [join(root, 'deploy/compose/make-secrets.sh'), dir], { encoding: 'utf8', timeout: 30_000 });
      const first = run();
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      for (const { file } of Object.values(compose.secrets)) {
        const path = join(dir, file.replace('./deploy/compose/secrets/', ''));
        expect(statSync(path).mode & 0o077, `${file} is private`).toBe(0);
      }
      const text = (name: string) => readFileSync(join(dir, name), 'utf8').trim();
      expect(Buffer.from(text('title_key'), 'base64')).toHaveLength(32);
      expect(createPrivateKey(text('receipt_signing_key')).asymmetricKeyType).toBe('ed25519');
      expect(text('database_url')).toBe(`postgres://icarus:${text('postgres_password')}@postgres:5432/icarus`);
      const rabbitPass = /default_pass = (\S+)/.exec(text('rabbitmq.conf'))?.[1];
      expect(text('amqp_url')).toBe(`amqp://icarus:${rabbitPass}@rabbitmq:5672/icarus`);
      const pem = text('edge.pem');
      expect(new X509Certificate(pem).subject).toBe('CN=localhost');
      expect(createPrivateKey(pem).asymmetricKeyType).toBe('ec');

      const before = text('title_key');
      const second = run();
      expect(second.stdout).toMatch(/none new/);
      expect(text('title_key')).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/env-files.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'icarus-env-files-'));
  const withLoader = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', join(root, 'deploy/env-files.mjs'), '-e', 'console.log(JSON.stringify([process.env.TITLE_KEY ?? null]))'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 20_000,
    });

  it('reads NAME from the file NAME_FILE names, without its trailing newline', () => {
    writeFileSync(join(dir, 'title_key'), 'c2VjcmV0\n');
    const r = withLoader({ TITLE_KEY_FILE: join(dir, 'title_key') });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['c2VjcmV0']);
  });

  it('stops the start naming the variable when the file is missing, or when both are set', () => {
    const missing = withLoader({ TITLE_KEY_FILE: join(dir, 'nope') });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/TITLE_KEY_FILE: cannot read/);
    expect(missing.stdout).toBe('');
    const both = withLoader({ TITLE_KEY: 'x', TITLE_KEY_FILE: join(dir, 'title_key') });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/TITLE_KEY and TITLE_KEY_FILE are both set/);
  });
});
