// Opens the object store the configuration names (platform/config.ts objectStoreSettings).
import { objectStoreSettings, type Config } from '../platform/config';
import { createFilesystemObjectStore, type ObjectStore } from '../platform/object-store';
import { createS3ObjectStore } from './object-store-s3';

export function openObjectStore(config: Config): ObjectStore {
  const settings = objectStoreSettings(config);
  return settings.kind === 'filesystem' ? createFilesystemObjectStore(settings.root) : createS3ObjectStore(settings);
}
