import { startCloud, type RunningCloud, type StartOptions } from '../../src/start';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from './database';

export interface TestCloud extends RunningCloud {
  testDb: TestDatabase;
  /** fetch against this cloud by path. */
  fetchPath(path: string, init?: RequestInit): Promise<Response>;
  enrollmentToken: string;
  stopAll(): Promise<void>;
}

/** A real cloud on a free loopback port over its own fresh database, with the demo org made. */
export async function startTestCloud(
  kind?: TestDatabaseKind,
  env: Record<string, string> = {},
  options: Pick<StartOptions, 'rateLimits'> = {},
): Promise<TestCloud> {
  const testDb = await createTestDatabase(kind);
  const running = await startCloud({
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: testDb.dataDir,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      ...(testDb.databaseUrl ? { DATABASE_URL: testDb.databaseUrl } : {}),
      ...env,
    },
    silent: true,
    ...options,
  });
  const token = running.bootstrap.enrollmentToken;
  if (!token) throw new Error('test cloud did not bootstrap a demo org');
  return {
    ...running,
    testDb,
    enrollmentToken: token,
    fetchPath: (path, init) => fetch(`${running.url}${path}`, init),
    async stopAll() {
      await running.close();
      await testDb.drop();
    },
  };
}
