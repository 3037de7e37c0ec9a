import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { uuidv7 } from 'uuidv7';
import { WIRE_PATHS } from '@icarus/shared';
import { parseConfig } from '../../cloud/src/platform/config';
import { loadSecrets } from '../../cloud/src/platform/secrets';
import { createTestDatabase } from '../../cloud/test/support/database';
import { startBare } from './fleet';
import { HISTORY_MS, partitionHistory, realisticBatch, startServer } from './ingest';
import { median, percentile } from './stats';

export interface FleetMinuteFigures {
  devices: number;
  /** Measured minutes (after one minute that fills the server's caches). */
  minutes: number;
  syncsPerMinute: number;
  tokenRefreshesPerMinute: number;
  syncP50Ms: number;
  syncP99Ms: number;
  tokenP99Ms: number;
  errors: number;
  firstError: string;
  /** The same schedule of syncs against the bare Hono server (body inflated and parsed, no database). */
  bareP99Ms: number;
  loadAverages: number[];
}

/** An agent syncs once a minute; an access token lives 15 minutes, so a fifteenth of the fleet refreshes each minute. */
const MINUTE_MS = 60_000;
const TOKEN_MINUTES = 15;

interface SimDevice {
  deviceId: string;
  privateKey: KeyObject;
  /** Where the device's next batch starts (its spans never overlap). */
  next: number;
  accessToken: string;
  /** The address it syncs from (the cloud sits behind a proxy that says so: TRUST_PROXY). */
  address: string;
}

/**
 * Devices made straight in the database (users, devices, bindings, consent as if decided 90
 * days ago), each with its own Ed25519 key, and an access token each as the server would have
 * issued it: making 10,000 through the enrollment API would take longer than the measurement.
 */
async function seedFleet(databaseUrl: string, count: number, tokenSecret: string): Promise<SimDevice[]> {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  try {
    const [org] = await sql<{ id: string }[]>`select id::text as id from orgs order by created_at limit 1`;
    const [policy] = await sql<{ version: number; hash: string }[]>`
      select version, hash from policies where org_id = ${org?.id ?? ''}::uuid and state = 'published' order by version desc limit 1`;
    if (!org || !policy) throw new Error('the bench server made no demo org with a published policy');
    const since = new Date(Date.now() - HISTORY_MS - 86_400_000).toISOString();
    const keys = Array.from({ length: count }, () => generateKeyPairSync('ed25519'));
    const deviceIds = keys.map(() => uuidv7());
    const userIds = keys.map(() => uuidv7());
    const bindingIds = keys.map(() => uuidv7());
    const xs = keys.map((k) => String(k.publicKey.export({ format: 'jwk' }).x));
    for (let from = 0; from < count; from += 2000) {
      const part = <T>(values: T[]) => values.slice(from, from + 2000);
      const users = part(userIds);
      const devices = part(deviceIds);
      const bindings = part(bindingIds);
      await sql.begin(async (tx) => {
        await tx`insert into users (id, org_id, email, name, role)
          select u, ${org.id}::uuid, 'fleet-' || u || '@bench.test', 'Fleet ' || n, 'employee'
          from unnest(${users}::uuid[]) with ordinality as t(u, n)`;
        await tx`insert into devices (id, org_id, user_id, binding_id, enrollment_token_id, name, platform, os_user, public_key_jwk, enrolled_at)
          select d, ${org.id}::uuid, u, b, gen_random_uuid(), 'laptop', 'linux', 'fleet', jsonb_build_object('kty', 'OKP', 'crv', 'Ed25519', 'x', x), ${since}::timestamptz
          from unnest(${devices}::uuid[], ${users}::uuid[], ${bindings}::uuid[], ${part(xs)}::text[]) as t(d, u, b, x)`;
        await tx`insert into device_bindings (id, org_id, device_id, user_id, method, bound_at)
          select b, ${org.id}::uuid, d, u, 'it_assignment', ${since}::timestamptz
          from unnest(${devices}::uuid[], ${users}::uuid[], ${bindings}::uuid[]) as t(d, u, b)`;
        await tx`insert into consent_records (id, org_id, device_id, user_id, binding_id, policy_version, policy_hash, decision, requested_scopes, granted, method, effective_at, receipt_jws)
          select gen_random_uuid(), ${org.id}::uuid, d, u, b, ${policy.version}, ${policy.hash}, 'granted', '["app_usage","idle"]'::jsonb, '["app_usage","idle"]'::jsonb,
            'terminal', ${since}::timestamptz, 'bench'
          from unnest(${devices}::uuid[], ${users}::uuid[], ${bindings}::uuid[]) as t(d, u, b)`;
      });
    }
    // Tokens as the server signs them (its key given to it): issued at staggered times, still valid.
    const config = parseConfig({ DATABASE_URL: databaseUrl, DATA_DIR: ':memory:', TOKEN_SECRET: tokenSecret, LOG_LEVEL: 'silent' });
    const key = loadSecrets(config).tokenKeys.newest;
    const issued = Math.floor(Date.now() / 1000);
    return Promise.all(
      keys.map(async (k, i) => ({
        deviceId: deviceIds[i] ?? '',
        privateKey: k.privateKey,
        next: Date.now() - HISTORY_MS,
        address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        accessToken: await new SignJWT({ org: org.id, typ: 'device' })
          .setProtectedHeader({ alg: 'HS256', kid: key.keyId })
          .setIssuer('icarus-nova')
          .setSubject(deviceIds[i] ?? '')
          .setIssuedAt(issued)
          .setExpirationTime(issued + 3600)
          .sign(key.key),
      })),
    );
  } finally {
    await sql.end();
  }
}

/** The RFC 7523 assertion an agent signs for a new access token. */
function assertion(device: SimDevice, audience: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'EdDSA' })}.${part({ iss: device.deviceId, sub: device.deviceId, aud: audience, iat: now, exp: now + 60, jti: uuidv7() })}`;
  return `${signed}.${sign(null, Buffer.from(signed), device.privateKey).toString('base64url')}`;
}

/**
 * One minute of the fleet, open loop: each device syncs once at its own moment of the minute
 * (spread evenly), those whose turn it is refresh their token first, whatever the answers so far.
 */
async function oneMinute(url: string, devices: SimDevice[], minute: number, withTokens: boolean) {
  const syncs: number[] = [];
  const tokens: number[] = [];
  let errors = 0;
  let firstError = '';
  const fail = (what: string) => {
    errors++;
    firstError ||= what;
  };
  // Bodies made before the clock starts: the load generator costs little during the minute.
  const bodies = devices.map((d) => {
    const batch = realisticBatch(5, d.next);
    d.next = batch.end + 1000;
    return batch;
  });
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  const syncOf = async (i: number) => {
    const device = devices[i];
    const batch = bodies[i];
    if (!device || !batch) return;
    const headers = { 'x-forwarded-for': device.address };
    if (withTokens && (i + minute) % TOKEN_MINUTES === 0) {
      const t0 = performance.now();
      const res = await fetch(`${url}${WIRE_PATHS.token}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ assertion: assertion(device, `${url}${WIRE_PATHS.token}`) }),
      }).catch((error: unknown) => error as Error);
      tokens.push(performance.now() - t0);
      if (res instanceof Error || res.status !== 200) return fail(`token: ${res instanceof Error ? res.message : `${res.status} ${await res.text()}`}`);
      device.accessToken = ((await res.json()) as { accessToken: string }).accessToken;
    }
    const t0 = performance.now();
    const res = await fetch(`${url}${WIRE_PATHS.ingest}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${device.accessToken}` },
      body: batch.body,
    }).catch((error: unknown) => error as Error);
    if (res instanceof Error) return fail(`sync: ${res.message}`);
    const text = await res.text();
    syncs.push(performance.now() - t0);
    const accepted = res.status === 200 ? (JSON.parse(text) as { accepted?: number }).accepted : undefined;
    if (withTokens && accepted !== batch.count) fail(`sync: ${res.status} ${text.slice(0, 200)}`);
    if (!withTokens && res.status !== 200) fail(`sync: ${res.status}`);
  };
  let sent = 0;
  while (sent < devices.length) {
    const due = Math.min(devices.length, Math.floor(((performance.now() - started) / MINUTE_MS) * devices.length) + 1);
    for (; sent < due; sent++) inFlight.push(syncOf(sent));
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(inFlight);
  return { syncs, tokens, errors, firstError };
}

/**
 * 10,000 devices, each syncing a 5-span gzip batch once a minute and refreshing its 15-minute
 * token when due, against the cloud over PostgreSQL: p99 and errors of each measured minute,
 * after one minute that fills the caches (a running fleet has them filled); beside the same
 * schedule against the bare Hono server.
 */
export async function benchFleetMinute(options: { devices?: number; minutes?: number } = {}): Promise<FleetMinuteFigures> {
  const count = options.devices ?? 10_000;
  const minutes = options.minutes ?? 3;
  const db = await createTestDatabase('postgres');
  const databaseUrl = db.databaseUrl ?? '';
  const tokenSecret = randomBytes(32).toString('base64');
  const server = await startServer(databaseUrl, { TRUST_PROXY: 'true', TOKEN_SECRET: tokenSecret });
  const p50: number[] = [];
  const p99: number[] = [];
  const tokenP99: number[] = [];
  const loads: number[] = [];
  let errors = 0;
  let firstError = '';
  let syncs = 0;
  let refreshes = 0;
  let devices: SimDevice[] = [];
  try {
    devices = await seedFleet(databaseUrl, count, tokenSecret);
    await partitionHistory(databaseUrl);
    await oneMinute(server.url, devices, 0, true);
    for (let m = 1; m <= minutes; m++) {
      const result = await oneMinute(server.url, devices, m, true);
      p50.push(percentile(result.syncs, 50));
      p99.push(percentile(result.syncs, 99));
      tokenP99.push(percentile(result.tokens, 99));
      loads.push(loadavg()[0] ?? 0);
      errors += result.errors;
      firstError ||= result.firstError;
      syncs += result.syncs.length;
      refreshes += result.tokens.length;
    }
  } finally {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
    await db.drop();
  }
  const bare = await startBare();
  let bareP99 = Number.NaN;
  try {
    bareP99 = percentile((await oneMinute(bare.url, devices, 0, false)).syncs, 99);
  } finally {
    bare.child.kill('SIGTERM');
    await once(bare.child, 'exit');
  }
  return {
    devices: count,
    minutes,
    syncsPerMinute: syncs / minutes,
    tokenRefreshesPerMinute: refreshes / minutes,
    syncP50Ms: median(p50),
    syncP99Ms: median(p99),
    tokenP99Ms: median(tokenP99),
    errors,
    firstError,
    bareP99Ms: bareP99,
    loadAverages: loads,
  };
}
