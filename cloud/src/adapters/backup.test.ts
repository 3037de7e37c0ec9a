// Backup and restore, proven end to end: a real cloud with people, consent, spans and audit rows
// is backed up to the object store (S3 through s3rver for PostgreSQL, files for PGlite), restored
// into a new database, and everything is found there with the audit chain still verifying.
// It sits beside the adapters because it backs up through the S3 store as well as the filesystem one.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3ObjectStore } from './object-store-s3';
import { startTestCloud, type TestCloud } from '../../test/support/cloud';
import { addPeople, noonDaysAgo, record } from '../../test/support/activity';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../test/support/database';
import { startLocalS3, type LocalS3 } from '../../test/support/s3-server';
import { startCloud } from '../start';
import { backup, listBackups, restore, type Manifest } from '../platform/backup';
import { decryptStream, encryptStream } from '../platform/backup-crypto';
import { createFilesystemObjectStore, type ObjectStore } from '../platform/object-store';

const keys = {
  TITLE_KEY: randomBytes(32).toString('base64'),
  TOKEN_SECRET: randomBytes(32).toString('base64'),
  RECEIPT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
};
const backupKey = randomBytes(32);

let s3: LocalS3;
let folder: string;
beforeAll(async () => {
  s3 = await startLocalS3('icarus-backups');
  folder = mkdtempSync(join(tmpdir(), 'icarus-backup-'));
});
afterAll(async () => {
  await s3?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

interface Everything {
  spans: string[];
  consent: string[];
  audit: string[];
}

/** Every span id, consent record (id and state) and audit row (seq, hash, action) of the database, in order. */
async function everything(query: (text: string) => Promise<Record<string, unknown>[]>): Promise<Everything> {
  const col = async (text: string) => (await query(text)).map((r) => String(r.v));
  return {
    spans: await col(`select id::text || ' ' || app as v from spans order by id`),
    consent: await col(`select id::text || ' ' || decision || ' ' || granted::text || ' ' || receipt_jws as v from consent_records order by id`),
    audit: await col(`select org_id::text || ' ' || seq || ' ' || action || ' ' || details::text || ' ' || hash as v from audit_log order by org_id, seq`),
  };
}

async function seed(cloud: TestCloud) {
  const people = await addPeople(cloud, { teamId: null, count: 3, consentFrom: noonDaysAgo(3) });
  await record(cloud, people, [
    { at: noonDaysAgo(2), ms: 600_000, app: 'Excel' },
    { at: noonDaysAgo(1), ms: 300_000, app: 'Code' },
  ]);
  const { audit } = cloud.cloud.services;
  // A signed checkpoint stored with the chain, as the hourly job makes.
  await audit.checkpoint(cloud.bootstrap.orgId);
  await audit.record({
    orgId: cloud.bootstrap.orgId,
    actorType: 'system',
    actorId: 'backup-test',
    action: 'user.password_reset',
    subjectUserIds: [people[0]!.userId],
    details: {},
  });
}

describe.each(testDatabaseKinds())('backup and restore on %s', (kind) => {
  let source: TestCloud;
  let before: Everything;
  let store: ObjectStore;
  let manifest: Manifest;
  const sourceDir = () => join(folder, `${kind}-source`);
  const openPglite = async (dir: string) => {
    const { PGlite } = await import('@electric-sql/pglite');
    return new PGlite(join(dir, 'pglite'));
  };

  beforeAll(async () => {
    source = await startTestCloud(kind, { ...keys, ...(kind === 'pglite' ? { DATA_DIR: sourceDir() } : {}) });
    await seed(source);
    store =
      kind === 'postgres'
        ? createS3ObjectStore({
            bucket: s3.bucket,
            prefix: 'drill/',
            endpoint: s3.endpoint,
            region: 'us-east-1',
            accessKeyId: s3.accessKeyId,
            secretAccessKey: s3.secretAccessKey,
            forcePathStyle: true,
          })
        : createFilesystemObjectStore(join(folder, 'objects'));
    if (kind === 'postgres') {
      const sql = postgres(source.testDb.databaseUrl!, { max: 1, onnotice: () => {} });
      before = await everything((t) => sql.unsafe(t));
      await sql.end();
    } else {
      // One process holds a PGlite folder: the server is stopped for the backup, as `npm run admin` asks.
      await source.close();
      const db = await openPglite(sourceDir());
      before = await everything(async (t) => (await db.query<Record<string, unknown>>(t)).rows);
      await db.close();
    }
    manifest = await backup({ databaseUrl: source.testDb.databaseUrl, dataDir: sourceDir() }, store, backupKey);
  }, 120_000);
  afterAll(async () => {
    if (kind === 'postgres') await source?.stopAll();
  });

  it('writes an encrypted dump and a manifest with the time, schema version, sizes and checksums', async () => {
    expect(before.spans.length).toBe(6);
    expect(before.consent.length).toBeGreaterThanOrEqual(3);
    expect(before.audit.length).toBeGreaterThan(3);
    expect(manifest).toMatchObject({
      source: kind,
      dump: kind === 'postgres' ? 'pg_dump-custom' : 'pglite-datadir-tar-gz',
      rows: { spans: 6, consentRecords: before.consent.length, auditLog: before.audit.length },
      schema: { migrations: expect.any(Number) as number },
    });
    expect(manifest.schema.migrations).toBeGreaterThan(10);
    const listed = await listBackups(store);
    expect(listed.map((m) => m.id)).toContain(manifest.id);
    const stored = await store.get(manifest.object);
    expect(stored?.length).toBe(manifest.stored.bytes);
    // Nothing of the plain dump is readable in the object: no app name, no key.
    expect(stored?.includes('Excel')).toBe(false);
    expect(stored?.includes(backupKey)).toBe(false);
    if (kind === 'postgres') expect(stored?.includes('PGDMP')).toBe(false);
  });

  it('restores into a new database where every span, consent record and audit row is found and the chain verifies', async () => {
    const target: TestDatabase =
      kind === 'postgres' ? await createTestDatabase('postgres') : { ...(await createTestDatabase('pglite')), dataDir: join(folder, 'pglite-target') };
    try {
      await restore(store, 'latest', backupKey, { databaseUrl: target.databaseUrl, dataDir: target.dataDir });
      let after: Everything;
      if (kind === 'postgres') {
        const sql = postgres(target.databaseUrl!, { max: 1, onnotice: () => {} });
        after = await everything((t) => sql.unsafe(t));
        await sql.end();
      } else {
        const db = await openPglite(target.dataDir);
        after = await everything(async (t) => (await db.query<Record<string, unknown>>(t)).rows);
        await db.close();
      }
      expect(after).toEqual(before);
      // The restored database serves: the same keys open it, and the audit chain verifies,
      // the stored signed checkpoint included.
      const restored = await startCloud({
        env: {
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'silent',
          NODE_ENV: 'test',
          DATA_DIR: target.dataDir,
          ...(target.databaseUrl ? { DATABASE_URL: target.databaseUrl } : {}),
          ...keys,
        },
        silent: true,
      });
      try {
        const verified = await restored.cloud.services.audit.verify(source.bootstrap.orgId);
        expect(verified.problems).toEqual([]);
        expect(verified.ok).toBe(true);
        expect(verified.entries).toBe(before.audit.filter((row) => row.startsWith(source.bootstrap.orgId)).length);
        expect(verified.checkpoints.map((c) => c.source)).toEqual(['stored']);
      } finally {
        await restored.close();
      }
      // Edits of the audit log are still refused there: its triggers came back with it.
      if (kind === 'postgres') {
        const sql = postgres(target.databaseUrl!, { max: 1, onnotice: () => {} });
        await expect(sql.unsafe(`update audit_log set action = 'x'`)).rejects.toThrow();
        await sql.end();
      } else {
        const db = await openPglite(target.dataDir);
        await expect(db.query(`update audit_log set action = 'x'`)).rejects.toThrow();
        await db.close();
      }
    } finally {
      await target.drop();
    }
  }, 120_000);

  it('refuses a changed dump before it writes anything, and a wrong key naming BACKUP_KEY', async () => {
    const original = (await store.get(manifest.object))!;
    const changed = Buffer.from(original);
    changed[Math.floor(changed.length / 2)]! ^= 0x01;
    await store.put(manifest.object, changed);
    const target =
      kind === 'postgres' ? await createTestDatabase('postgres') : { ...(await createTestDatabase('pglite')), dataDir: join(folder, 'pglite-refused') };
    try {
      await expect(restore(store, manifest.id, backupKey, { databaseUrl: target.databaseUrl, dataDir: target.dataDir })).rejects.toThrow(
        /the stored dump does not match its manifest/,
      );
      await expect(restore(store, manifest.id, randomBytes(32), { databaseUrl: target.databaseUrl, dataDir: target.dataDir })).rejects.toThrow(
        /^BACKUP_KEY: backup .* was made with another key/,
      );
      if (kind === 'postgres') {
        const sql = postgres(target.databaseUrl!, { max: 1, onnotice: () => {} });
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_tables where schemaname = 'public'`;
        await sql.end();
        expect(row?.n).toBe(0);
      }
    } finally {
      await store.put(manifest.object, original);
      await target.drop();
    }
  });

  it('refuses a target that holds a database already', async () => {
    if (kind === 'postgres') {
      await expect(restore(store, manifest.id, backupKey, { databaseUrl: source.testDb.databaseUrl })).rejects.toThrow(
        /^--target-database-url: .* is not empty/,
      );
    } else {
      await expect(restore(store, manifest.id, backupKey, { dataDir: sourceDir() })).rejects.toThrow(/^--target-data-dir: .* holds a database already/);
    }
  });

  it('refuses a manifest edited to match another object', async () => {
    const key = `backups/${manifest.id}/manifest.json`;
    const text = (await store.get(key))!.toString();
    const edited = JSON.parse(text) as Manifest;
    edited.rows.spans = 0;
    await store.put(key, JSON.stringify(edited));
    try {
      await expect(restore(store, manifest.id, backupKey, { databaseUrl: 'postgres://nowhere/none', dataDir: join(folder, 'never') })).rejects.toThrow(
        /its manifest was changed after it was written/,
      );
    } finally {
      await store.put(key, text);
    }
  });
});

describe('backup encryption', () => {
  const roundTrip = async (plain: Buffer, key: Buffer, change?: (sealed: Buffer) => Buffer) => {
    const { Readable } = await import('node:stream');
    const { pipeline } = await import('node:stream/promises');
    const sealed: Buffer[] = [];
    await pipeline(Readable.from([plain]), encryptStream(key), async function* (source) {
      for await (const c of source) sealed.push(c as Buffer);
    });
    const bytes = change ? change(Buffer.concat(sealed)) : Buffer.concat(sealed);
    const out: Buffer[] = [];
    await pipeline(Readable.from([bytes]), decryptStream(key), async function* (source) {
      for await (const c of source) out.push(c as Buffer);
    });
    return Buffer.concat(out);
  };
  const key = randomBytes(32);
  const plain = randomBytes(2 * 1024 * 1024 + 17);

  it('round-trips across chunk boundaries, and an empty body', async () => {
    expect((await roundTrip(plain, key)).equals(plain)).toBe(true);
    expect((await roundTrip(Buffer.alloc(0), key)).length).toBe(0);
  });

  it('refuses a cut-off, a dropped last chunk, a changed byte and another key', async () => {
    // 24-byte header, then chunks of 4 + 1 MiB + 16 bytes.
    const full = 4 + 1024 * 1024 + 16;
    await expect(roundTrip(plain, key, (b) => b.subarray(0, b.length - 5))).rejects.toThrow(/cut short/);
    await expect(roundTrip(plain, key, (b) => b.subarray(0, 24 + 2 * full))).rejects.toThrow(/cut short \(its last chunk is missing\)/);
    await expect(
      roundTrip(plain, key, (b) => {
        const c = Buffer.from(b);
        c[24 + 100]! ^= 0x80;
        return c;
      }),
    ).rejects.toThrow(/does not decrypt with this BACKUP_KEY, or chunk 0 was changed/);
    await expect(
      (async () => {
        const { Readable } = await import('node:stream');
        const { pipeline } = await import('node:stream/promises');
        const sealed: Buffer[] = [];
        await pipeline(Readable.from([plain]), encryptStream(key), async function* (s) {
          for await (const c of s) sealed.push(c as Buffer);
        });
        await pipeline(Readable.from([Buffer.concat(sealed)]), decryptStream(randomBytes(32)), async function* (s) {
          for await (const _ of s) void _;
        });
      })(),
    ).rejects.toThrow(/does not decrypt with this BACKUP_KEY/);
  });

  it('is refused as a backup when it is something else', async () => {
    await expect(roundTrip(plain, key, () => Buffer.from('PGDMP not encrypted at all, a plain dump'))).rejects.toThrow(/not an Icarus Nova backup/);
  });
});
