// Opens the object store the configuration names (platform/config.ts objectStoreSettings). The
// S3 SDK is loaded on the store's first use, so a process that never touches the store (or uses
// the filesystem one) does not pay for loading it at start.
import { objectStoreSettings, type Config } from '../platform/config';
import { createFilesystemObjectStore, type ObjectStore } from '../platform/object-store';

export function openObjectStore(config: Config): ObjectStore {
  const settings = objectStoreSettings(config);
  if (settings.kind === 'filesystem') return createFilesystemObjectStore(settings.root);
  let opened: Promise<ObjectStore> | undefined;
  const s3 = () => (opened ??= import('./object-store-s3').then((m) => m.createS3ObjectStore(settings)));
  return {
    kind: 's3',
    where: `s3://${settings.bucket}/${settings.prefix}${settings.endpoint ? ` at ${new URL(settings.endpoint).origin}` : ''}`,
    put: async (key, body, options) => (await s3()).put(key, body, options),
    get: async (key) => (await s3()).get(key),
    stream: async (key) => (await s3()).stream(key),
    head: async (key) => (await s3()).head(key),
    delete: async (key) => (await s3()).delete(key),
    list: async (prefix) => (await s3()).list(prefix),
  };
}
