// One contract, both stores: the filesystem under DATA_DIR and the S3 API (against s3rver, an
// S3-protocol server started inside this test on loopback).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../test/support/s3-server';
import { ConfigError, objectStoreSettings, parseConfig } from '../platform/config';
import { createFilesystemObjectStore, ObjectKeyError, type ObjectStore } from '../platform/object-store';
import { openObjectStore } from './object-store';
import { createS3ObjectStore } from './object-store-s3';

let s3: LocalS3;
let folder: string;
beforeAll(async () => {
  s3 = await startLocalS3();
  folder = mkdtempSync(join(tmpdir(), 'icarus-objects-'));
});
afterAll(async () => {
  await s3?.stop();
  rmSync(folder, { recursive: true, force: true });
});

const stores: [string, () => ObjectStore][] = [
  ['filesystem', () => createFilesystemObjectStore(join(folder, 'store'))],
  [
    's3',
    () =>
      createS3ObjectStore({
        bucket: s3.bucket,
        prefix: 'deployment-a/',
        endpoint: s3.endpoint,
        region: 'us-east-1',
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
      }),
  ],
];

const text = async (stream: Readable | undefined) => {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString();
};

describe.each(stores)('object store contract: %s', (_name, make) => {
  it('puts, reads back, heads, streams and deletes an object', async () => {
    const store = make();
    const written = await store.put('exports/org-1/a.csv', 'day,minutes\n2026-11-30,42\n', { contentType: 'text/csv' });
    expect(written).toMatchObject({ key: 'exports/org-1/a.csv', size: 26 });
    expect((await store.get('exports/org-1/a.csv'))?.toString()).toBe('day,minutes\n2026-11-30,42\n');
    expect(await store.head('exports/org-1/a.csv')).toMatchObject({ key: 'exports/org-1/a.csv', size: 26 });
    expect(await text(await store.stream('exports/org-1/a.csv'))).toBe('day,minutes\n2026-11-30,42\n');
    await store.delete('exports/org-1/a.csv');
    expect(await store.get('exports/org-1/a.csv')).toBeUndefined();
    expect(await store.head('exports/org-1/a.csv')).toBeUndefined();
    expect(await store.stream('exports/org-1/a.csv')).toBeUndefined();
    // Deleting what is not there is not an error.
    await store.delete('exports/org-1/a.csv');
  });

  it('takes a stream of unknown length larger than one upload part, byte for byte', async () => {
    const store = make();
    const part = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < part.length; i++) part[i] = (i * 7) & 0xff;
    const parts = 19; // 19 MiB: three multipart parts on S3
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < parts; i++) yield part;
      })(),
    );
    const written = await store.put('backups/big.bin', body);
    expect(written.size).toBe(parts * part.length);
    const back = await store.get('backups/big.bin');
    expect(back?.length).toBe(parts * part.length);
    expect(back?.subarray(18 * part.length).equals(part)).toBe(true);
    await store.delete('backups/big.bin');
  });

  it('replaces an object of the same key', async () => {
    const store = make();
    await store.put('audit/org-1/checkpoint.json', '{"seq":1}');
    await store.put('audit/org-1/checkpoint.json', '{"seq":2}');
    expect((await store.get('audit/org-1/checkpoint.json'))?.toString()).toBe('{"seq":2}');
    await store.delete('audit/org-1/checkpoint.json');
  });

  it('lists by prefix in key order, and nothing of another prefix', async () => {
    const store = make();
    for (const key of ['list/b/2', 'list/a/1', 'list/b/1', 'listing/x', 'other/y']) await store.put(key, key);
    expect((await store.list('list/')).map((o) => o.key)).toEqual(['list/a/1', 'list/b/1', 'list/b/2']);
    expect((await store.list('list/b/')).map((o) => [o.key, o.size])).toEqual([
      ['list/b/1', 8],
      ['list/b/2', 8],
    ]);
    expect(await store.list('nothing-here/')).toEqual([]);
    for (const key of ['list/b/2', 'list/a/1', 'list/b/1', 'listing/x', 'other/y']) await store.delete(key);
  });

  it('refuses keys that could leave the store or name nothing, naming the key', async () => {
    const store = make();
    for (const key of ['../secrets.json', 'a/../../b', '/abs', 'a//b', '.hidden', 'a/', '', 'x'.repeat(513), 'sp ace']) {
      await expect(store.put(key, 'no')).rejects.toThrow(ObjectKeyError);
      await expect(store.get(key)).rejects.toThrow(/^key: /);
    }
  });
});

describe('filesystem store', () => {
  it('leaves no partial file behind when the body fails midway, and keeps the old object', async () => {
    const root = join(folder, 'partial');
    const store = createFilesystemObjectStore(root);
    await store.put('exports/x.csv', 'old');
    const failing = new Readable({
      read() {
        this.push(Buffer.from('half of it'));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(store.put('exports/x.csv', failing)).rejects.toThrow('connection reset');
    expect((await store.get('exports/x.csv'))?.toString()).toBe('old');
    expect(readdirSync(join(root, 'exports'))).toEqual(['x.csv']);
    expect((await store.list('')).map((o) => o.key)).toEqual(['exports/x.csv']);
  });
});

describe('choosing the store from the configuration', () => {
  it('is files under DATA_DIR/objects by default, and S3 from OBJECT_STORE_URL or S3_BUCKET', async () => {
    expect(objectStoreSettings(parseConfig({ DATA_DIR: '/srv/icarus' }))).toEqual({ kind: 'filesystem', root: '/srv/icarus/objects' });
    expect(objectStoreSettings(parseConfig({ OBJECT_STORE_URL: 'file:///mnt/objects' }))).toEqual({ kind: 'filesystem', root: '/mnt/objects' });
    expect(objectStoreSettings(parseConfig({ OBJECT_STORE_URL: 's3://icarus-prod/eu', S3_ENDPOINT: 'https://minio.internal:9000' }))).toMatchObject({
      kind: 's3',
      bucket: 'icarus-prod',
      prefix: 'eu/',
      endpoint: 'https://minio.internal:9000',
    });
    expect(objectStoreSettings(parseConfig({ S3_BUCKET: 'icarus-prod', S3_FORCE_PATH_STYLE: 'true' }))).toMatchObject({
      kind: 's3',
      bucket: 'icarus-prod',
      prefix: '',
      forcePathStyle: true,
    });
    // The configured S3 store is the one opened.
    const store = openObjectStore(
      parseConfig({
        S3_BUCKET: s3.bucket,
        S3_ENDPOINT: s3.endpoint,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
      }),
    );
    expect(store.kind).toBe('s3');
    await store.put('from-config', 'yes');
    expect((await store.get('from-config'))?.toString()).toBe('yes');
    await store.delete('from-config');
  });

  it('names the setting that is wrong', () => {
    expect(() => parseConfig({ OBJECT_STORE_URL: 'ftp://x/y' })).toThrow(/OBJECT_STORE_URL/);
    expect(() => parseConfig({ S3_BUCKET: 'Not_A_Bucket' })).toThrow(/S3_BUCKET: must be an S3 bucket name/);
    expect(() => parseConfig({ S3_BUCKET: 'icarus', S3_ACCESS_KEY_ID: 'AKIA' })).toThrow(/S3_SECRET_ACCESS_KEY must be set too/);
    expect(() => parseConfig({ BACKUP_KEY: 'c2hvcnQ=' })).toThrow(/BACKUP_KEY: must be 32 bytes/);
    expect(() => objectStoreSettings(parseConfig({ OBJECT_STORE_URL: 's3://B/x' }))).toThrow(ConfigError);
  });
});
