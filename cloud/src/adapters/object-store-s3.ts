// The object store over the S3 API (AWS, MinIO, Ceph RGW, and gateways in front of other clouds),
// the same contract as the filesystem store (platform/object-store.ts).
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { bodyStream, checkKey, checkPrefix, type ObjectStore, type StoredObject } from '../platform/object-store';

export interface S3Settings {
  bucket: string;
  /** Keys are stored under this prefix ("" or ending in "/"), so one bucket can hold several deployments. */
  prefix: string;
  endpoint?: string | undefined;
  region: string;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted servers need. */
  forcePathStyle: boolean;
}

/** Parts of 8 MiB, two in flight: a stream of any length goes up as one multipart upload. */
const PART_BYTES = 8 * 1024 * 1024;

export function createS3ObjectStore(settings: S3Settings): ObjectStore & { client: S3Client } {
  const client = new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.accessKeyId && settings.secretAccessKey
      ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
      : {}),
    // Checksums only where the API requires them: S3-compatible servers differ in which trailing
    // checksums they accept, and every object written here carries its own sha256 where it matters.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = settings.bucket;
  const full = (key: string) => settings.prefix + checkKey(key);
  const missing = (error: unknown) =>
    error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchKey' || error.name === 'NotFound');

  async function head(key: string): Promise<StoredObject | undefined> {
    try {
      const answer = await client.send(new HeadObjectCommand({ Bucket, Key: full(key) }));
      return { key, size: answer.ContentLength ?? 0, modifiedAt: answer.LastModified ?? new Date(0) };
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
  }
  async function stream(key: string): Promise<Readable | undefined> {
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket, Key: full(key) }));
      return answer.Body as Readable;
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
  }
  return {
    kind: 's3',
    where: `s3://${Bucket}/${settings.prefix}${settings.endpoint ? ` at ${new URL(settings.endpoint).origin}` : ''}`,
    client,
    async put(key, body, options) {
      const upload = new Upload({
        client,
        params: { Bucket, Key: full(key), Body: bodyStream(body), ContentType: options?.contentType ?? 'application/octet-stream' },
        partSize: PART_BYTES,
        queueSize: 2,
        leavePartsOnError: false,
      });
      await upload.done();
      const written = await head(key);
      if (!written) throw new Error(`object store: ${key} was not there after its upload`);
      return written;
    },
    async get(key) {
      const body = await stream(key);
      if (!body) return undefined;
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    },
    stream,
    head,
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: full(key) }));
    },
    async list(prefix) {
      checkPrefix(prefix);
      const objects: StoredObject[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: settings.prefix + prefix, ContinuationToken: token }));
        for (const item of page.Contents ?? []) {
          if (!item.Key) continue;
          objects.push({ key: item.Key.slice(settings.prefix.length), size: item.Size ?? 0, modifiedAt: item.LastModified ?? new Date(0) });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
  };
}
