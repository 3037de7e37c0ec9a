// The object store port: files too large or too long-lived for a database row (exports, audit
// archives, backups) under a flat key space. The local filesystem under DATA_DIR is the embedded
// default; the S3 adapter (adapters/object-store-s3.ts) speaks the same contract to any S3 API.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface StoredObject {
  key: string;
  size: number;
  modifiedAt: Date;
}

export type ObjectBody = Buffer | Uint8Array | string | Readable;

export interface ObjectStore {
  readonly kind: 'filesystem' | 's3';
  /** Where objects go, for logs and the CLI (never a credential). */
  readonly where: string;
  /** Writes the whole object or nothing: a reader never sees half of it. Replaces an object of the same key. */
  put(key: string, body: ObjectBody, options?: { contentType?: string }): Promise<StoredObject>;
  /** The whole object, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** The object as a stream, or undefined when there is none. */
  stream(key: string): Promise<Readable | undefined>;
  head(key: string): Promise<StoredObject | undefined>;
  /** Removes the object; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoredObject[]>;
}

export class ObjectKeyError extends Error {
  constructor(key: string, problem: string) {
    super(`key: "${key.slice(0, 80)}" ${problem}`);
  }
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._=-]*$/;
export const MAX_KEY_LENGTH = 512;

/** Keys are slash-separated segments of letters, digits and `._=-` (no `..`, no leading dot), at most 512 characters. */
export function checkKey(key: string): string {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new ObjectKeyError(key, `must be 1 to ${MAX_KEY_LENGTH} characters`);
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment) || segment.includes('..'))
      throw new ObjectKeyError(key, 'must be segments of letters, digits, ".", "_", "=" or "-" separated by "/", none empty, none starting with "."');
  }
  return key;
}

/** A prefix for list(): empty, or a key that may end in "/". */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

export function bodyStream(body: ObjectBody): Readable {
  if (body instanceof Readable) return body;
  return Readable.from([typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
}

const TEMP = '.partial-';

/**
 * Objects as files under `root` (DATA_DIR/objects by default), one file per key. A put writes a
 * temporary file beside the target and renames it over, so a crash leaves either the old object
 * or the new one; temporary files are never listed and are swept by `sweepPartials`.
 */
export function createFilesystemObjectStore(root: string): ObjectStore & { sweepPartials(): Promise<number> } {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const path = join(base, ...checkKey(key).split('/'));
    if (!path.startsWith(base + sep)) throw new ObjectKeyError(key, 'leaves the store');
    return path;
  };
  const described = (key: string, info: { size: number; mtime: Date }): StoredObject => ({ key, size: info.size, modifiedAt: info.mtime });
  const headOf = async (key: string) => {
    try {
      const info = await stat(pathOf(key));
      return info.isFile() ? described(key, info) : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  };
  async function walk(dir: string): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const found: string[] = [];
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) found.push(...(await walk(path)));
      else if (entry.isFile()) found.push(path);
    }
    return found;
  }
  return {
    kind: 'filesystem',
    where: base,
    async put(key, body) {
      const target = pathOf(key);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      const temp = join(dirname(target), `${TEMP}${randomBytes(8).toString('hex')}`);
      try {
        await pipeline(bodyStream(body), createWriteStream(temp, { mode: 0o600 }));
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      const info = await stat(target);
      return described(key, info);
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (error) {
        if (isMissing(error) || isDirectory(error)) return undefined;
        throw error;
      }
    },
    async stream(key) {
      if (!(await headOf(key))) return undefined;
      return createReadStream(pathOf(key));
    },
    head: headOf,
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async list(prefix) {
      checkPrefix(prefix);
      const files = await walk(base);
      const objects: StoredObject[] = [];
      for (const file of files) {
        const name = file.split(sep).pop() ?? '';
        if (name.startsWith(TEMP)) continue;
        const key = relative(base, file).split(sep).join('/');
        if (!key.startsWith(prefix)) continue;
        try {
          objects.push(described(key, await stat(file)));
        } catch (error) {
          if (!isMissing(error)) throw error;
        }
      }
      return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async sweepPartials() {
      let removed = 0;
      for (const file of await walk(base)) {
        if ((file.split(sep).pop() ?? '').startsWith(TEMP)) {
          await rm(file, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}

function isMissing(error: unknown) {
  return typeof error === 'object' && error !== null && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');
}
function isDirectory(error: unknown) {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EISDIR';
}
