import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { parseAllowedHosts, type AllowedHost } from './outbound-address';

/** One key, or several comma-separated, oldest first (the newest writes; the others still read). */
const Base64Keys32 = z.string().refine((v) => v.split(',').every((k) => /^[A-Za-z0-9+/]+=*$/.test(k.trim()) && Buffer.from(k.trim(), 'base64').length === 32), {
  message: 'must be 32 bytes, base64-encoded (several keys: comma-separated, oldest first)',
});
/** Exactly one key (the backup key: a backup names the one it was made with). */
const Base64Key32 = z.string().refine((v) => Buffer.from(v, 'base64').length === 32, { message: 'must be 32 bytes, base64-encoded' });
/** One PKCS#8 PEM private key, or several one after another, oldest first. */
const PemKeys = z.string().refine((v) => /^(\s*-----BEGIN PRIVATE KEY-----[A-Za-z0-9+/=\s]+-----END PRIVATE KEY-----\s*)+$/.test(v), {
  message: 'must be a PKCS#8 PEM private key (several keys: one PEM block after another, oldest first)',
});

export const PROCESS_ROLES = ['api', 'worker', 'scheduler'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

/** Every setting the server reads, parsed once at start; nothing else reads process.env. */
export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./var'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * Parallel workers a statement of this server may start (PostgreSQL's max_parallel_workers_per_gather,
   * for its connections only). 0: none; a team summary ran 10-15 % faster without them here, and an org-wide trend no slower.
   */
  DATABASE_PARALLEL_WORKERS: z.coerce.number().int().min(0).max(64).default(0),
  /** The URL agents and browsers use to reach this server; the token audience is derived from it. */
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** AES-256-GCM key(s) for window titles at rest and sealed secrets. Unset: generated once into DATA_DIR/secrets.json. */
  TITLE_KEY: Base64Keys32.optional(),
  /** HMAC key(s) for device access tokens. Unset: generated once into DATA_DIR/secrets.json. */
  TOKEN_SECRET: Base64Keys32.optional(),
  /** Ed25519 private key (PKCS#8 PEM) that signs consent receipts. Unset: generated once. */
  RECEIPT_SIGNING_KEY: PemKeys.optional(),
  /**
   * Ed25519 private key (PKCS#8 PEM) that signs audit chain checkpoints. Unset: derived from the
   * receipt signing key (HKDF), so it is never in the database either way.
   */
  AUDIT_SIGNING_KEY: PemKeys.optional(),
  /**
   * What every consent receipt states (Kantara `jurisdiction` and `language`, ISO/IEC TS 27560
   * storage locations): the jurisdiction whose law the consent is given under (an ISO 3166 code,
   * or EU), the language the policy is written in (BCP 47), and where the data is stored
   * (comma-separated). Set them to the deployment's; the defaults are an EU deployment in English.
   */
  JURISDICTION: z
    .string()
    .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, { message: 'must be an ISO 3166 code such as DE, US-NY or EU' })
    .default('EU'),
  CONSENT_LANGUAGE: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { message: 'must be a BCP 47 language tag such as en or de-DE' })
    .default('en'),
  STORAGE_LOCATIONS: z
    .string()
    .default('EU')
    .transform((v) => v.split(',').map((l) => l.trim()))
    .pipe(z.array(z.string().min(1, { message: 'must not hold an empty location' }).max(100)).min(1)),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  /** Slow clients: whole headers within this, the whole request within REQUEST_TIMEOUT_MS (Node's 300 s default lets a trickle hold a socket). */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(10_000),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /** A request body that sends no byte for this long is abandoned with 408. */
  BODY_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** /metrics: with a token it needs `Authorization: Bearer <token>`; with a port it is served only there. */
  METRICS_TOKEN: z.string().min(16).optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  /**
   * TLS served by the cloud itself (a single VM with no edge in front): PEM certificate chain
   * and private key file paths, both or neither. Unset: plain HTTP, for an edge that terminates TLS.
   */
  TLS_CERT: z.string().min(1).optional(),
  TLS_KEY: z.string().min(1).optional(),
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** OpenID Connect single sign-on: all four set, or SSO is off. */
  OIDC_ISSUER: z.url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** The org whose directory SSO users are matched against (by email). */
  OIDC_ORG_ID: z.uuid().optional(),
  /** Outgoing mail (smtp:// or smtps://, credentials in the URL). Unset: no email is sent. */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  MAIL_FROM: z.string().min(3).default('Icarus Nova <no-reply@icarus.invalid>'),
  /** How often the outbox worker looks for due notifications. */
  NOTIFY_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** First retry delay; each further failure doubles it (capped at a day). */
  NOTIFY_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(10),
  NOTIFY_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /**
   * The delay before each retry of a webhook delivery, comma-separated (`500ms`, `5s`, `5m`, `2h`):
   * by default the schedule of the Standard Webhooks specification, so a delivery is tried
   * immediately and then 7 more times over about 28 hours. `none`: never retried. (Email and
   * tray deliveries follow NOTIFY_RETRY_BASE_MS and NOTIFY_MAX_ATTEMPTS.)
   */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('5s,5m,30m,2h,5h,10h,10h')
    .transform((value, ctx): number[] => {
      const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
      const delays: number[] = [];
      if (value.trim() === 'none') return delays;
      for (const part of value
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '')) {
        const match = /^(\d{1,6})(ms|s|m|h)$/.exec(part);
        const ms = match ? Number(match[1]) * (unit[match[2] ?? ''] ?? 0) : NaN;
        if (!(ms >= 0 && ms <= 86_400_000)) {
          ctx.addIssue({ code: 'custom', message: `"${part}" is not a delay such as 5s, 5m or 2h (at most a day)` });
          return z.NEVER;
        }
        delays.push(ms);
      }
      if (delays.length > 29) {
        ctx.addIssue({ code: 'custom', message: 'at most 29 retries' });
        return z.NEVER;
      }
      return delays;
    }),
  /**
   * Hosts webhooks may reach although they resolve to private, loopback or link-local addresses,
   * and over plain http: comma-separated `host`, `host:port` or `[v6]:port`. Unset: public https only.
   */
  WEBHOOK_ALLOW_HOSTS: z
    .string()
    .default('')
    .transform((value, ctx): AllowedHost[] => {
      try {
        return parseAllowedHosts(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    }),
  /** When the weekly team reports go out (cron, UTC): Monday 07:00 by default. Each goes once per manager, team and week whatever runs it. */
  WEEKLY_REPORT_CRON: z
    .string()
    .default('0 7 * * 1')
    .refine((v) => cron.validate(v), { message: 'must be a cron expression (five fields, or six with seconds)' }),
  /** A device with no sync for this many days is reported to the org's admins (daily check). */
  DEVICE_SILENT_DAYS: z.coerce.number().int().min(1).max(365).default(3),
  /** Redis for what instances share in memory: rate-limit buckets and cache invalidation (memory and PostgreSQL NOTIFY without it). */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /** Prefix of every Redis key and channel this deployment uses (several deployments can share one Redis). */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,40}$/, { message: 'letters, digits, colons, dashes or underscores, at most 40' })
    .default('icarus:'),
  /**
   * RabbitMQ (AMQP 0-9-1) for events other systems consume (`docs/EVENTS.md`). Unset: no event is
   * recorded and no broker is needed.
   */
  AMQP_URL: z.url({ protocol: /^amqps?$/ }).optional(),
  /** The durable topic exchange events are published to, routed by event name (`consent.granted`). */
  AMQP_EXCHANGE: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,120}$/, { message: 'letters, digits, dots, colons, dashes or underscores, at most 120' })
    .default('icarus.events'),
  /** The CloudEvents `source` of this deployment's events (consumers de-duplicate on source and id). */
  EVENT_SOURCE: z.string().min(1).max(200).default('urn:icarus-nova'),
  /** How often the relay (worker role) looks for events to publish. */
  EVENT_POLL_MS: z.coerce.number().int().min(20).max(60_000).default(500),
  /** First retry delay after a failed publish; doubled per attempt, capped at a minute. */
  EVENT_RETRY_BASE_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** A publish not confirmed by the broker within this fails and is retried. */
  EVENT_PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * What this process does (comma-separated): `api` serves HTTP, `worker` consumes the rollup
   * outbox, delivers notifications and runs erasures, `scheduler` runs the cron jobs (once per
   * tick across all instances). All three by default: `npm start` is one process.
   */
  ROLES: z
    .string()
    .default('api,worker,scheduler')
    .transform((v) => v.split(',').map((r) => r.trim()))
    .pipe(z.array(z.enum(PROCESS_ROLES)).min(1, { message: 'must name at least one role' }))
    .transform((roles) => new Set(roles) as ReadonlySet<ProcessRole>),
  /**
   * Where exports, audit archives and backups go: `file:///abs/path` (default: DATA_DIR/objects)
   * or `s3://bucket/prefix` (the S3_* settings give the endpoint, region and credentials).
   */
  OBJECT_STORE_URL: z.url({ protocol: /^(file|s3)$/ }).optional(),
  /** The S3 API's endpoint (unset: AWS for the region), e.g. `https://minio.internal:9000`. */
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name (3 to 63 lower-case letters, digits, dots or dashes)' })
    .optional(),
  /** Keys go under this prefix in the bucket ("" or ending in "/"). */
  S3_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9][A-Za-z0-9._=-]*\/)*$/, { message: 'must be empty or segments ending in "/"' })
    .default(''),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** Unset: the SDK's own chain (environment, instance or pod role). */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Path-style addressing (`endpoint/bucket/key`), which MinIO and Ceph usually need. */
  S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** 32 bytes, base64: encrypts backups (AES-256-GCM); never stored with them. Needed by `backup` and `restore` only. */
  BACKUP_KEY: Base64Key32.optional(),
  /** A demo org on a first start; default on, except in production (whose first admin comes from `npm run admin`). */
  DEMO_SEED: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true')),
});
export type Config = Omit<z.infer<typeof ConfigSchema>, 'DEMO_SEED'> & { DEMO_SEED: boolean };

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined>): Config {
  // An empty variable means "not set", as shells and compose files write it.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = ConfigSchema.safeParse(present);
  if (result.success) {
    if (result.data.NODE_ENV === 'production') {
      const missing = (['TITLE_KEY', 'TOKEN_SECRET', 'RECEIPT_SIGNING_KEY', 'DATABASE_URL'] as const).filter((k) => result.data[k] === undefined);
      if (missing.length > 0) throw new ConfigError(`Invalid configuration: ${missing.join(', ')} must be set in production`);
    }
    const oidc = (['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_ORG_ID'] as const).filter((k) => result.data[k] === undefined);
    if (oidc.length > 0 && oidc.length < 4) throw new ConfigError(`Invalid configuration: ${oidc.join(', ')} must be set too for single sign-on`);
    if ((result.data.TLS_CERT === undefined) !== (result.data.TLS_KEY === undefined)) {
      throw new ConfigError(`Invalid configuration: ${result.data.TLS_CERT === undefined ? 'TLS_CERT' : 'TLS_KEY'} must be set too to serve TLS`);
    }
    if ((result.data.S3_ACCESS_KEY_ID === undefined) !== (result.data.S3_SECRET_ACCESS_KEY === undefined)) {
      throw new ConfigError(
        `Invalid configuration: ${result.data.S3_ACCESS_KEY_ID === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY'} must be set too (or neither, for the SDK's own credentials)`,
      );
    }
    if (result.data.OBJECT_STORE_URL?.startsWith('file:') && result.data.S3_BUCKET !== undefined) {
      throw new ConfigError('Invalid configuration: OBJECT_STORE_URL: a file:// store and S3_BUCKET name two different stores; set one');
    }
    if (result.data.NODE_ENV === 'production' && result.data.DEMO_SEED === true) {
      throw new ConfigError(
        'Invalid configuration: DEMO_SEED: a production start makes no demo org (create the first admin with npm run admin -- create-admin)',
      );
    }
    return { ...result.data, DEMO_SEED: result.data.DEMO_SEED ?? result.data.NODE_ENV !== 'production' };
  }
  const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

export type ObjectStoreSettings =
  | { kind: 'filesystem'; root: string }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      endpoint: string | undefined;
      region: string;
      accessKeyId: string | undefined;
      secretAccessKey: string | undefined;
      forcePathStyle: boolean;
    };

/** Which object store the configuration names: S3 when OBJECT_STORE_URL is s3:// or S3_BUCKET is set, else files under DATA_DIR/objects. */
export function objectStoreSettings(config: Config): ObjectStoreSettings {
  const url = config.OBJECT_STORE_URL ? new URL(config.OBJECT_STORE_URL) : undefined;
  if (url?.protocol === 'file:') return { kind: 'filesystem', root: decodeURIComponent(url.pathname) };
  const s3 = (bucket: string, prefix: string) => ({
    kind: 's3' as const,
    bucket,
    prefix,
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
  });
  if (url?.protocol === 's3:') {
    const path = url.pathname.replace(/^\/+/, '');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(url.hostname))
      throw new ConfigError('Invalid configuration: OBJECT_STORE_URL: s3://<bucket>/<prefix> needs a bucket name');
    return s3(url.hostname, path === '' || path.endsWith('/') ? path : `${path}/`);
  }
  if (config.S3_BUCKET) return s3(config.S3_BUCKET, config.S3_PREFIX);
  return {
    kind: 'filesystem',
    root: join(config.DATA_DIR === ':memory:' ? tmpdir() : config.DATA_DIR, config.DATA_DIR === ':memory:' ? `icarus-objects-${process.pid}` : 'objects'),
  };
}
