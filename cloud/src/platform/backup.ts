// Backup and restore of the whole database to the object store, encrypted with BACKUP_KEY.
//
// PostgreSQL: `pg_dump --format=custom` streamed through the encryption to the store, and
// `pg_restore --single-transaction` into a new, empty database. PGlite (`npm start`): the data
// folder as PGlite's own tarball (`dumpDataDir`), loaded into a new data folder (`loadDataDir`);
// PGlite has no pg_dump of its own that a stopped folder could be dumped with, and a tarball of
// the folder is what its authors offer for moving a database.
//
// Each backup is two objects under `backups/<id>/`: the encrypted dump, then `manifest.json`
// (written last, so a backup without one is incomplete and never listed) with the time, the
// schema version, sizes, sha256 of the plain and the stored bytes and a MAC under the key.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { z } from 'zod';
import { backupKeyId, BackupCryptoError, decryptStream, encryptStream, manifestMac } from './backup-crypto';
import type { ObjectStore } from './object-store';

export class BackupError extends Error {}

const JOURNAL = fileURLToPath(new URL('./db/migrations/meta/_journal.json', import.meta.url));

/** The migrations this build knows, in order. */
export function knownMigrations(): string[] {
  const journal = JSON.parse(readFileSync(JOURNAL, 'utf8')) as { entries: { tag: string }[] };
  return journal.entries.map((e) => e.tag);
}

export const ManifestSchema = z.object({
  format: z.literal('icarus-nova-backup-1'),
  id: z.string().regex(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/),
  createdAt: z.iso.datetime(),
  source: z.enum(['postgres', 'pglite']),
  dump: z.enum(['pg_dump-custom', 'pglite-datadir-tar-gz']),
  serverVersion: z.string(),
  /** How many migrations the database had applied, and the last one's tag in this build's journal. */
  schema: z.object({ migrations: z.number().int().min(0), latest: z.string() }),
  object: z.string(),
  plain: z.object({ bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  stored: z.object({ bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** Rows counted when the dump began (for the restore drill): every span, consent record and audit row. */
  rows: z.object({ spans: z.number().int(), consentRecords: z.number().int(), auditLog: z.number().int() }),
  encryption: z.object({ cipher: z.literal('aes-256-gcm-chunked'), keyId: z.string() }),
  mac: z.string(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** The manifest's text with keys sorted at every level: the MAC does not depend on the order fields were written in. */
function canonical(manifest: Omit<Manifest, 'mac'>): string {
  const sorted = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => [k, sorted(v)]),
        )
      : value;
  return JSON.stringify(sorted(manifest));
}

/** Counts bytes and computes sha256 as they pass. */
function tap() {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _e, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, done: () => ({ bytes, sha256: hash.digest('hex') }) };
}

/** libpq settings from a URL, the password in PGPASSWORD (never on a command line others can read). */
function libpqEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGHOST: decodeURIComponent(u.hostname),
    PGPORT: u.port || '5432',
    PGDATABASE: decodeURIComponent(u.pathname.slice(1)),
  };
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<void>((resolveExit, reject) => {
    child.on('error', (error) =>
      reject(new BackupError(`${command} could not be started (${error.message}); install the PostgreSQL client tools (Debian: postgresql-client)`)),
    );
    child.on('close', (code, signal) =>
      code === 0 ? resolveExit() : reject(new BackupError(`${command} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`)),
    );
  });
  return { child, exited };
}

export interface BackupSource {
  databaseUrl?: string | undefined;
  /** DATA_DIR of a PGlite install (the server must be stopped). */
  dataDir: string;
}

const newId = (at: Date) =>
  `${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}-${randomBytes(4).toString('hex')}`;

async function countRows(query: (text: string) => Promise<{ n: number | string }[]>) {
  const one = async (table: string) => Number((await query(`select count(*)::int as n from ${table}`))[0]?.n ?? 0);
  return { spans: await one('spans'), consentRecords: await one('consent_records'), auditLog: await one('audit_log') };
}

/** Backs up the database to `store` and returns its manifest. */
export async function backup(source: BackupSource, store: ObjectStore, key: Buffer, now = new Date()): Promise<Manifest> {
  const id = newId(now);
  const latest = knownMigrations().at(-1) ?? '';
  const encrypted = tap();
  const plain = tap();
  let object: string;
  let head: Pick<Manifest, 'source' | 'dump' | 'serverVersion' | 'schema' | 'rows'>;
  if (source.databaseUrl) {
    object = `backups/${id}/database.pgdump.enc`;
    const sql = postgres(source.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [version] = await sql<{ v: string }[]>`show server_version`;
      const [applied] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      head = {
        source: 'postgres',
        dump: 'pg_dump-custom',
        serverVersion: version?.v ?? '',
        schema: { migrations: applied?.n ?? 0, latest },
        rows: await countRows((text) => sql.unsafe(text)),
      };
    } finally {
      await sql.end({ timeout: 5 });
    }
    const dump = run('pg_dump', ['--format=custom', '--compress=6', '--no-password'], libpqEnv(source.databaseUrl));
    dump.child.stdin.end();
    const upload = new PassThrough();
    const stored = store.put(object, upload, { contentType: 'application/octet-stream' });
    try {
      await Promise.all([pipeline(dump.child.stdout, plain.stream, encryptStream(key), encrypted.stream, upload), dump.exited, stored]);
    } catch (error) {
      dump.child.kill('SIGKILL');
      upload.destroy();
      await stored.catch(() => undefined);
      await store.delete(object).catch(() => undefined);
      throw error;
    }
  } else {
    object = `backups/${id}/database.pglite.tar.gz.enc`;
    const dir = join(resolve(source.dataDir), 'pglite');
    if (!existsSync(join(dir, 'PG_VERSION'))) throw new BackupError(`DATA_DIR: there is no PGlite database in ${dir}`);
    const db = new PGlite(dir);
    let tarball: Blob;
    try {
      const version = await db.query<{ v: string }>('show server_version');
      const applied = await db.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations');
      head = {
        source: 'pglite',
        dump: 'pglite-datadir-tar-gz',
        serverVersion: `${version.rows[0]?.v ?? ''} (PGlite)`,
        schema: { migrations: applied.rows[0]?.n ?? 0, latest },
        rows: await countRows(async (text) => (await db.query<{ n: number }>(text)).rows),
      };
      tarball = await db.dumpDataDir('gzip');
    } finally {
      await db.close();
    }
    const bytes = Buffer.from(await tarball.arrayBuffer());
    const upload = new PassThrough();
    const stored = store.put(object, upload, { contentType: 'application/octet-stream' });
    await Promise.all([pipeline(Readable.from([bytes]), plain.stream, encryptStream(key), encrypted.stream, upload), stored]);
  }
  const unsigned: Omit<Manifest, 'mac'> = {
    format: 'icarus-nova-backup-1',
    id,
    createdAt: now.toISOString(),
    ...head,
    object,
    plain: plain.done(),
    stored: encrypted.done(),
    encryption: { cipher: 'aes-256-gcm-chunked', keyId: backupKeyId(key) },
  };
  const manifest: Manifest = { ...unsigned, mac: manifestMac(key, canonical(unsigned)) };
  await store.put(`backups/${id}/manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
  return manifest;
}

/** Complete backups (those with a manifest), oldest first. Manifests are read, not verified: `restore` verifies. */
export async function listBackups(store: ObjectStore): Promise<Manifest[]> {
  const found: Manifest[] = [];
  for (const object of await store.list('backups/')) {
    if (!object.key.endsWith('/manifest.json')) continue;
    const parsed = ManifestSchema.safeParse(JSON.parse((await store.get(object.key))?.toString() ?? 'null'));
    if (parsed.success) found.push(parsed.data);
  }
  return found.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The manifest of backup `id` ("latest": the newest), checked against the key. */
export async function openManifest(store: ObjectStore, id: string, key: Buffer): Promise<Manifest> {
  let chosen = id;
  if (id === 'latest') {
    const newest = (await listBackups(store)).at(-1);
    if (!newest) throw new BackupError(`--backup: there is no backup in ${store.where}`);
    chosen = newest.id;
  }
  if (!/^\d{8}T\d{6}Z-[0-9a-f]{8}$/.test(chosen))
    throw new BackupError(`--backup: "${chosen}" is not a backup id (like 20261201T020000Z-1a2b3c4d) or "latest"`);
  const text = (await store.get(`backups/${chosen}/manifest.json`))?.toString();
  if (text === undefined) throw new BackupError(`--backup: there is no backup ${chosen} in ${store.where}`);
  const parsed = ManifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new BackupError(`backup ${chosen}: its manifest is not one this version reads`);
  const { mac, ...unsigned } = parsed.data;
  if (parsed.data.encryption.keyId !== backupKeyId(key))
    throw new BackupError(`BACKUP_KEY: backup ${chosen} was made with another key (key id ${parsed.data.encryption.keyId}, this one is ${backupKeyId(key)})`);
  if (manifestMac(key, canonical(unsigned)) !== mac) throw new BackupError(`backup ${chosen}: its manifest was changed after it was written`);
  const known = knownMigrations();
  if (parsed.data.schema.migrations > known.length)
    throw new BackupError(
      `backup ${chosen} has ${parsed.data.schema.migrations} migrations applied and this version knows ${known.length}: restore it with the version that made it or a newer one`,
    );
  return parsed.data;
}

/** Reads the stored object once through, holding its size and sha256 against the manifest. */
async function verifyStored(store: ObjectStore, manifest: Manifest) {
  const body = await store.stream(manifest.object);
  if (!body) throw new BackupError(`backup ${manifest.id}: its dump ${manifest.object} is missing`);
  const check = tap();
  await pipeline(
    body,
    check.stream,
    new Writable({
      write: (_c, _e, callback) => callback(),
    }),
  );
  const got = check.done();
  if (got.bytes !== manifest.stored.bytes || got.sha256 !== manifest.stored.sha256)
    throw new BackupError(
      `backup ${manifest.id}: the stored dump does not match its manifest (${got.bytes} bytes, sha256 ${got.sha256.slice(0, 12)}…; the manifest says ${manifest.stored.bytes} bytes, ${manifest.stored.sha256.slice(0, 12)}…)`,
    );
}

export interface RestoreTarget {
  /** A new, empty PostgreSQL database (for a PostgreSQL backup). */
  databaseUrl?: string | undefined;
  /** A new DATA_DIR with no PGlite database in it yet (for a PGlite backup). */
  dataDir?: string | undefined;
}

/**
 * Restores backup `id` into `target`, which must be empty: the stored bytes are checked against
 * the manifest's sha256 before anything is written, each chunk is authenticated as it is
 * decrypted, and the plain sha256 is checked at the end. PostgreSQL restores in one
 * transaction, so a failure leaves the target as empty as it was.
 */
export async function restore(store: ObjectStore, id: string, key: Buffer, target: RestoreTarget): Promise<Manifest> {
  const manifest = await openManifest(store, id, key);
  await verifyStored(store, manifest);
  const plain = tap();
  const decrypted = async () => {
    const body = await store.stream(manifest.object);
    if (!body) throw new BackupError(`backup ${manifest.id}: its dump ${manifest.object} is missing`);
    return { body, stages: [body, decryptStream(key), plain.stream] as const };
  };
  try {
    if (manifest.source === 'postgres') {
      if (!target.databaseUrl) throw new BackupError('--target-database-url: a PostgreSQL backup is restored into a new, empty PostgreSQL database');
      await mustBeEmpty(target.databaseUrl);
      const { stages } = await decrypted();
      const restoring = run(
        'pg_restore',
        [
          '--single-transaction',
          '--exit-on-error',
          '--no-owner',
          '--no-privileges',
          '--no-password',
          '--dbname',
          new URL(target.databaseUrl).pathname.slice(1),
        ],
        libpqEnv(target.databaseUrl),
      );
      try {
        await Promise.all([pipeline(...stages, restoring.child.stdin), restoring.exited]);
      } catch (error) {
        restoring.child.kill('SIGKILL');
        throw error;
      }
    } else {
      if (!target.dataDir) throw new BackupError('--target-data-dir: a PGlite backup is restored into a new DATA_DIR');
      const dir = join(resolve(target.dataDir), 'pglite');
      if (existsSync(dir) && readdirSync(dir).length > 0)
        throw new BackupError(`--target-data-dir: ${dir} holds a database already; restore into a new folder`);
      const { stages } = await decrypted();
      const chunks: Buffer[] = [];
      await pipeline(
        ...stages,
        new Writable({
          write(chunk: Buffer, _e, callback) {
            chunks.push(chunk);
            callback();
          },
        }),
      );
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const db = new PGlite(dir, { loadDataDir: new Blob([Buffer.concat(chunks)]) });
      await db.query('select 1');
      await db.close();
    }
  } catch (error) {
    if (error instanceof BackupCryptoError) throw new BackupError(`backup ${manifest.id}: ${error.message}`);
    throw error;
  }
  const got = plain.done();
  if (got.sha256 !== manifest.plain.sha256) throw new BackupError(`backup ${manifest.id}: the restored dump's sha256 does not match its manifest`);
  return manifest;
}

async function mustBeEmpty(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'`;
    if ((row?.n ?? 0) > 0)
      throw new BackupError(`--target-database-url: ${new URL(url).pathname.slice(1)} is not empty (${row?.n} relations); restore into a new database`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
