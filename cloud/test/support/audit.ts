// Test-only: the audit module on its own over a database of its own, for the tests of the chain,
// its checkpoints, its archive and the access counts, which need no cloud around it.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openDatabase, type Database } from '../../src/platform/db/client';
import { createKeyring, publicKeyId } from '../../src/platform/keyring';
import { createFilesystemObjectStore, type ObjectStore } from '../../src/platform/object-store';
import { createAuditModule, type AuditKeys, type AuditService } from '../../src/modules/audit';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from './database';

/** An audit key as the process holds it (config or derived), never the database. */
export function testAuditKeys(): AuditKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return createKeyring('audit', [{ privateKey, publicKey, keyId: publicKeyId(publicKey) }]);
}

export interface AuditTestbed {
  testDb: TestDatabase;
  database: Database;
  keys: AuditKeys;
  /** A folder of its own under the temp folder, removed by `stop`. */
  objects: ObjectStore;
  audit: AuditService;
  /** The same database and object store under other keys: another server's checkpoints. */
  withKeys(keys: AuditKeys): AuditService;
  stop(): Promise<void>;
}

/** A fresh database (`kind`), an audit key, an object store and the audit module over them. */
export async function startAuditTestbed(kind: TestDatabaseKind, tag: string): Promise<AuditTestbed> {
  const folder = mkdtempSync(join(tmpdir(), `icarus-audit-${tag}-`));
  const objects = createFilesystemObjectStore(folder);
  const testDb = await createTestDatabase(kind);
  const database = await openDatabase({ databaseUrl: testDb.databaseUrl, dataDir: testDb.dataDir });
  const keys = testAuditKeys();
  const withKeys = (other: AuditKeys) => createAuditModule({ database, keys: other, logger: pino({ level: 'silent' }), objects }).service;
  return {
    testDb,
    database,
    keys,
    objects,
    audit: withKeys(keys),
    withKeys,
    async stop() {
      await database.close();
      await testDb.drop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
