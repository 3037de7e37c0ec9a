import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { startCloud, type RunningCloud, type StartOptions } from '../../src/start';
import type { SignedInUser } from '../../src/platform/env';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from './database';

export interface TestCloud extends RunningCloud {
  testDb: TestDatabase;
  /** fetch against this cloud by path. */
  fetchPath(path: string, init?: RequestInit): Promise<Response>;
  /** The fleet token: its devices are of the demo org, bound to no one. */
  enrollmentToken: string;
  /** A per-user enrollment token (as IT deploys by MDM): every device enrolled with it is bound to that person. */
  tokenFor(userId: string, orgId?: string): Promise<string>;
  /** A person of the demo org named `name` (made when new) and a per-user token for their device. */
  personToken(name: string): Promise<{ userId: string; token: string }>;
  /** The demo org's admin as a signed-in user, to call the services as its routes do (an admin session needs TOTP). */
  demoAdmin(): Promise<SignedInUser>;
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
  const { devices, directory } = running.cloud.services;
  const tokenFor = async (userId: string, orgId = running.bootstrap.orgId) =>
    (await devices.createEnrollmentToken({ orgId, userId, label: `for ${userId}`, validDays: 1, maxUses: 20 })).token;
  return {
    ...running,
    testDb,
    enrollmentToken: token,
    tokenFor,
    async personToken(name: string) {
      const email = `${name.toLowerCase()}@people.test`;
      const user =
        (await directory.findUserByEmail(running.bootstrap.orgId, email)) ??
        (await directory.createUser({ orgId: running.bootstrap.orgId, email, name, role: 'employee', osUser: name }));
      return { userId: user.id, token: await tokenFor(user.id) };
    },
    async demoAdmin() {
      const { orgId, adminEmail } = running.bootstrap;
      const admin = await directory.findUserByEmail(orgId, adminEmail);
      if (!admin) throw new Error('the test cloud has no demo admin');
      return { userId: admin.id, orgId, email: adminEmail, name: 'Admin', role: 'admin', managedTeamIds: [], teamId: null, sessionId: 's' };
    },
    fetchPath: (path, init) => fetch(`${running.url}${path}`, init),
    async stopAll() {
      await running.close();
      await testDb.drop();
    },
  };
}

/** The secrets every instance of one deployment shares, fresh for each test file. */
export function deploymentSecrets(): Record<'TITLE_KEY' | 'TOKEN_SECRET' | 'RECEIPT_SIGNING_KEY', string> {
  return {
    TITLE_KEY: randomBytes(32).toString('base64'),
    TOKEN_SECRET: randomBytes(32).toString('base64'),
    RECEIPT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/**
 * Another instance of `first`'s deployment on its PostgreSQL database (PGlite belongs to one
 * process), on a free loopback port: `env` carries what the deployment shares (its secrets, its
 * Redis), as it did for `first`.
 */
export function startAnotherInstance(
  first: Pick<TestCloud, 'testDb'>,
  env: Record<string, string>,
  options: Pick<StartOptions, 'rateLimits'> = {},
): Promise<RunningCloud> {
  const databaseUrl = first.testDb.databaseUrl;
  if (!databaseUrl) throw new Error('a second instance needs PostgreSQL: PGlite belongs to one process');
  return startCloud({
    env: { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', NODE_ENV: 'test', DATA_DIR: ':memory:', DATABASE_URL: databaseUrl },
    silent: true,
    ...options,
  });
}
