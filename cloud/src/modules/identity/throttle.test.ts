import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type CloudApp } from '../../app';
import { openDatabase, type Database } from '../../platform/db/client';
import { AppError } from '../../platform/errors';
import { createSecretBox } from '../../platform/secret-box';
import { loadSecrets } from '../../platform/secrets';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { makeTestOrg, PASSWORD, type TestOrg } from '../../../test/support/people';
import { startSmtpServer } from '../../../test/support/servers';
import { waitFor } from '../../../test/support/servers';
import { createAuthService } from './auth';
import { createAccountStore } from './account-store';
import { createRecoveryCodes } from './recovery-codes';
import { createSessionStore } from './session-store';
import { createSignInThrottle, type SignInAlert } from './throttle';
import { createThrottleStore } from './throttle-store';
import { newTotpSecret, totpCode } from './totp';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;
interface Outcome {
  status: number;
  message?: string;
  retryAfter?: string | undefined;
}

/** What a sign-in call came to: 201 for a session, else the error's status, message and Retry-After. */
async function outcome(work: Promise<unknown>): Promise<Outcome> {
  try {
    await work;
    return { status: 201 };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { status: error.status, message: error.message, retryAfter: error.headers?.['Retry-After'] };
  }
}

describe.each(testDatabaseKinds())('sign-in throttle on %s', (kind) => {
  let cloud: TestCloud;
  let org: TestOrg;
  let smtp: Smtp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    // Behind a "proxy", so each request names the address it comes from.
    cloud = await startTestCloud(kind, { TRUST_PROXY: 'true', SMTP_URL: smtp.url, MAIL_FROM: 'Icarus <notices@icarus.test>', NOTIFY_POLL_MS: '50' });
    org = await makeTestOrg(cloud, 'throttle');
  });
  afterAll(async () => {
    await cloud?.stopAll();
    await smtp?.close();
  });

  /** The sign-in service over the test cloud's database on a clock the test moves; alerts are collected. */
  function clocked() {
    let clock = Date.now();
    const now = () => new Date(clock);
    const alerts: SignInAlert[] = [];
    const { directory, audit } = cloud.cloud.services;
    const auth = createAuthService({
      directory,
      audit,
      totpBox: createSecretBox(Buffer.alloc(32, 9), 'totp-secrets'),
      recovery: createRecoveryCodes(createAccountStore(cloud.database), now),
      store: createSessionStore(cloud.database),
      throttle: createSignInThrottle({ store: createThrottleStore(cloud.database), now }),
      now,
    });
    auth.onAlert(async (alert) => void alerts.push(alert));
    return { auth, alerts, advance: (ms: number) => void (clock += ms) };
  }
  const signIn = (email: string, password: string, address: string) =>
    cloud.cloud.app.request('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ email, password }),
    });

  it('an attacker at another address does not lock the owner out, and the owner is told by mail', async () => {
    const { employee } = org.people;
    const attacker = '198.51.100.23';
    const statuses: number[] = [];
    // Five wrong passwords, each sent as soon as the last answer allows.
    while (statuses.filter((s) => s === 401).length < 5) {
      const response = await signIn(employee.email, 'not the password', attacker);
      statuses.push(response.status);
      if (response.status === 429) await new Promise((r) => setTimeout(r, Number(response.headers.get('retry-after')) * 1000));
    }
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 429]);
    const more = await signIn(employee.email, 'not the password', attacker);
    expect(more.status).toBe(429);

    const owner = await signIn(employee.email, PASSWORD, '203.0.113.50');
    expect(owner.status).toBe(201);

    const mail = await waitFor(() => smtp.mails.find((m) => m.to.includes(employee.email)));
    expect(mail.subject).toBe('Failed attempts to sign in to your Icarus Nova account');
    expect(mail.raw).toContain(`5 failed attempts to sign in as you from the address ${attacker}`);
    expect(mail.raw).toMatch(/between \d{4}-\d\d-\d\dT[\d:.]+Z and \d{4}-\d\d-\d\dT[\d:.]+Z \(UTC\)/);
    expect(mail.raw).toContain('ask your administrator to reset it');
  });

  it('delays grow 2, 4, 8 s ... to 15 min per address, the same for an email nobody has', async () => {
    const runs: Outcome[][] = [];
    for (const email of [org.people.outsider.email, 'nobody@throttle.example']) {
      const { auth, advance } = clocked();
      const attempt = () => outcome(auth.signInWithPassword({ email, password: 'wrong', address: '198.51.100.7' }));
      const seen: Outcome[] = [];
      for (let i = 0; i < 3; i++) seen.push(await attempt());
      for (let i = 0; i < 11; i++) {
        const refused = await attempt();
        seen.push(refused);
        advance(Number(refused.retryAfter) * 1000);
        seen.push(await attempt());
      }
      await auth.settle();
      runs.push(seen);
    }
    const [known, unknown] = runs;
    expect(known).toEqual(unknown);
    expect(known?.slice(0, 3).map((o) => o.status)).toEqual([401, 401, 401]);
    const waits = known?.filter((o) => o.status === 429).map((o) => o.retryAfter);
    expect(waits).toEqual(['2', '4', '8', '16', '32', '64', '128', '256', '512', '900', '900']);
    expect(known?.filter((o) => o.status === 401)).toHaveLength(3 + 11);
    expect(known?.find((o) => o.status === 429)?.message).toBe('Too many failed sign-ins to this account from your address; try again in 2 s');
  });

  it('refuses even the right password while an address waits; a sign-in clears its count', async () => {
    const { auth, advance } = clocked();
    const { email } = org.people.teammate;
    const address = '198.51.100.8';
    const attempt = (password: string) => outcome(auth.signInWithPassword({ email, password, address }));
    for (let i = 0; i < 3; i++) expect((await attempt('wrong')).status).toBe(401);
    expect((await attempt(PASSWORD)).status).toBe(429);
    advance(2_000);
    expect((await attempt(PASSWORD)).status).toBe(201);
    const after = [await attempt('wrong'), await attempt('wrong'), await attempt('wrong'), await attempt('wrong')];
    expect(after.map((o) => o.status)).toEqual([401, 401, 401, 429]);
  });

  it('wrong codes count with wrong passwords: a right password does not reset them', async () => {
    const { auth, advance } = clocked();
    const { directory } = cloud.cloud.services;
    const email = 'two-factor@throttle.example';
    const { id } = await directory.createUser({ orgId: org.orgId, email, name: 'Two Factor', role: 'employee', password: PASSWORD });
    const secret = newTotpSecret();
    await auth.storeTotpSecret(id, secret);
    const address = '198.51.100.9';
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) {
      const half = await outcome(
        auth.signInWithPassword({ email, password: PASSWORD, address }).then(async (started) => {
          statuses.push(201);
          statuses.push((await outcome(auth.verifyTotp(started.session.id, '000000', address))).status);
        }),
      );
      if (half.status !== 201) statuses.push(half.status);
    }
    // Password (1), code (2), password (3), then the next code or password waits.
    expect(statuses).toEqual([201, 401, 201, 429, 429]);
    advance(2_000);
    const started = await auth.signInWithPassword({ email, password: PASSWORD, address });
    // That password was the 4th attempt: the code after it waits 4 s, and completes the sign-in.
    expect((await outcome(auth.verifyTotp(started.session.id, totpCode(secret, Date.now()), address))).retryAfter).toBe('4');
    advance(4_000);
    await auth.verifyTotp(started.session.id, totpCode(secret, Date.now()), address);
    expect((await outcome(auth.signInWithPassword({ email, password: 'wrong', address }))).status).toBe(401);
  });

  it('past 30 failures an hour from many addresses, new addresses wait 30 s; the holder at home does not', async () => {
    const { auth, alerts, advance } = clocked();
    const { directory } = cloud.cloud.services;
    const email = 'stuffed@throttle.example';
    await directory.createUser({ orgId: org.orgId, email, name: 'Stuffed', role: 'employee', password: PASSWORD });
    expect((await outcome(auth.signInWithPassword({ email, password: PASSWORD, address: '203.0.113.77' }))).status).toBe(201);
    for (let i = 0; i < 30; i++) expect((await outcome(auth.signInWithPassword({ email, password: `guess-${i}`, address: `10.1.0.${i}` }))).status).toBe(401);
    const paced = await outcome(auth.signInWithPassword({ email, password: 'guess-x', address: '10.1.1.1' }));
    expect(paced).toMatchObject({ status: 429, retryAfter: '30' });
    expect(paced.message).toMatch(/from many addresses/);
    expect((await outcome(auth.signInWithPassword({ email, password: PASSWORD, address: '203.0.113.77' }))).status).toBe(201);
    advance(30_000);
    expect((await outcome(auth.signInWithPassword({ email, password: 'guess-y', address: '10.1.1.2' }))).status).toBe(401);
    await auth.settle();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ email, reason: 'account', accountFailures: 30 });
  });

  it('a password reset lifts the slowdown at once', async () => {
    const { auth } = clocked();
    const { email, id } = org.people.auditor;
    const attempt = () => outcome(auth.signInWithPassword({ email, password: 'wrong', address: '198.51.100.10' }));
    for (let i = 0; i < 3; i++) await attempt();
    expect((await attempt()).status).toBe(429);
    await auth.signOutEverywhere(id);
    expect((await attempt()).status).toBe(401);
  });

  it('two instances on one database share the counts: the second refuses what the first limited', async () => {
    // PGlite belongs to one process: the second instance shares its handle. PostgreSQL: a pool of its own.
    const second: Database = cloud.testDb.databaseUrl
      ? await openDatabase({ databaseUrl: cloud.testDb.databaseUrl, dataDir: ':memory:', poolSize: 2 })
      : cloud.database;
    const other: CloudApp = createApp({ config: cloud.config, database: second, secrets: loadSecrets(cloud.config), logger: pino({ level: 'silent' }) });
    const on = (app: CloudApp, email: string, address: string) =>
      app.app.request('/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ email, password: 'wrong' }),
      });
    try {
      const email = org.people.manager.email;
      const first = [];
      for (let i = 0; i < 3; i++) first.push((await on(cloud.cloud, email, '198.51.100.11')).status);
      expect(first).toEqual([401, 401, 401]);
      expect((await on(other, email, '198.51.100.11')).status).toBe(429);

      // The per-address limit on the sign-in routes, whatever the account: 30 at once, then one per 2 s.
      // Sent to both at once, so the bucket cannot refill in between however slow the machine is.
      const burst = await Promise.all(
        Array.from({ length: 40 }, (_, i) => on(i % 4 === 3 ? other : cloud.cloud, `spray-${i}@throttle.example`, '198.51.100.12')),
      );
      const statuses = burst.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(30);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    } finally {
      await other.stop();
      if (second !== cloud.database) await second.close();
    }
  });
});
