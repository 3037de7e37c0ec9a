import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import { Redis } from 'ioredis';
import { createMemoryRateLimitStore } from './adapters/rate-limit-memory';
import { createRedisRateLimitStore } from './adapters/rate-limit-redis';
import { createApp, type CloudApp } from './app';
import { createRedisBus } from './platform/invalidation';
import { bootstrapDemoOrg, type BootstrapResult } from './bootstrap';
import { parseConfig, type Config } from './platform/config';
import { openDatabase, type Database } from './platform/db/client';
import type { RateLimitStore } from './platform/http/rate-limit';
import { createLogger } from './platform/logger';
import { loadSecrets } from './platform/secrets';
import { withoutRetiredKeys } from './modules/keys';
import { loadTlsFiles } from './platform/tls';

export interface RunningCloud {
  url: string;
  port: number;
  /** Where /metrics is served when METRICS_PORT is set (the OS-chosen port for 0). */
  metricsPort?: number;
  config: Config;
  cloud: CloudApp;
  database: Database;
  bootstrap: BootstrapResult;
  logger: Logger;
  /** Stops accepting, finishes in-flight requests, then closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Environment to parse (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** Quiet logs, as tests want. */
  silent?: boolean;
  /** Where rate-limit buckets live (memory by default; tests freeze its clock). */
  rateLimits?: RateLimitStore;
}

/** Opens the database, builds the app and listens: what server.ts and the tests both run. */
export async function startCloud(options: StartOptions = {}): Promise<RunningCloud> {
  const config = parseConfig(options.env ?? process.env);
  const tls = loadTlsFiles(config);
  const logger = options.silent ? pino({ level: 'silent' }) : createLogger(config.LOG_LEVEL);
  const database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    parallelWorkers: config.DATABASE_PARALLEL_WORKERS,
  });
  // A key retired in the database is refused even while still configured.
  const secrets = await withoutRetiredKeys(database, loadSecrets(config));
  const shared = config.REDIS_URL ? await connectRedis(config.REDIS_URL, config.REDIS_PREFIX, logger) : undefined;

  // Listen first: with PORT=0 the token audience depends on the port the OS picks.
  let handler: ((req: Request) => Response | Promise<Response>) | undefined;
  const server = await listen(config, config.PORT, (req) => (handler ? handler(req) : new Response('starting', { status: 503 })), tls);
  const port = (server.address() as AddressInfo).port;
  const scheme = tls ? 'https' : 'http';
  const effective: Config = { ...config, PORT: port, PUBLIC_URL: config.PUBLIC_URL ?? `${scheme}://127.0.0.1:${port}` };
  const rateLimits = options.rateLimits ?? shared?.rateLimits;
  const cloud = createApp({
    config: effective,
    database,
    secrets,
    logger,
    ...(rateLimits ? { rateLimits } : {}),
    ...(shared ? { bus: shared.bus } : {}),
  });
  await cloud.start();
  handler = config.ROLES.has('api') ? cloud.app.fetch : cloud.operationsApp.fetch;
  const metricsServer = config.METRICS_PORT === undefined ? undefined : await listen(config, config.METRICS_PORT, cloud.metricsApp.fetch);

  const now = new Date();
  await cloud.services.ingestion.preparePartitions(now);
  // The demo is made by a process that serves it (one with the api role).
  const bootstrap =
    config.DEMO_SEED && config.ROLES.has('api')
      ? await bootstrapDemoOrg(cloud)
      : { created: false, orgId: (await cloud.services.directory.firstOrg())?.id ?? '', adminEmail: '' };

  let closing: Promise<void> | undefined;
  return {
    url: effective.PUBLIC_URL ?? `${scheme}://127.0.0.1:${port}`,
    port,
    ...(metricsServer ? { metricsPort: (metricsServer.address() as AddressInfo).port } : {}),
    config: effective,
    cloud,
    database,
    bootstrap,
    logger,
    close() {
      closing ??= (async () => {
        await Promise.all([server, metricsServer].map((s) => (s ? closeServer(s) : undefined)));
        await cloud.stop();
        await shared?.close();
        await database.close();
      })();
      return closing;
    },
  };
}

/**
 * Redis (REDIS_URL): rate-limit buckets every instance shares, and cache invalidation over
 * pub/sub. Commands fail at once while Redis is away (no offline queue), and the rate limits
 * fall back to this process's memory meanwhile; the start waits a little for the first
 * connection but does not fail without it.
 */
async function connectRedis(url: string, prefix: string, logger: Logger) {
  const options = { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, connectTimeout: 2_000 } as const;
  const commands = new Redis(url, options);
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
  for (const [name, client] of [
    ['commands', commands],
    ['subscriber', subscriber],
  ] as const) {
    client.on('error', (err: Error) => logger.warn({ err, connection: name }, 'redis: connection error'));
    await client.connect().catch((err: unknown) => logger.warn({ err, connection: name }, 'redis: not reachable at start; retrying'));
  }
  return {
    rateLimits: createRedisRateLimitStore(commands, prefix, createMemoryRateLimitStore(), logger),
    bus: createRedisBus(commands, subscriber, prefix, logger),
    async close() {
      await Promise.all([commands.quit().catch(() => commands.disconnect()), subscriber.quit().catch(() => subscriber.disconnect())]);
    },
  };
}

/**
 * Listens with timeouts that hold against slow clients: headers within HEADERS_TIMEOUT_MS, the
 * whole request within REQUEST_TIMEOUT_MS (Node answers 408 and closes), checked every second
 * rather than Node's 30 s. A stalled body is also cut by the body reader's idle timeout.
 */
/**
 * Listens with bounded waits: headers must arrive within HEADERS_TIMEOUT_MS and the whole
 * request within REQUEST_TIMEOUT_MS (Node's defaults wait minutes on a trickling client).
 * With TLS_CERT/TLS_KEY the cloud terminates TLS itself (a single VM with no edge in front).
 */
function listen(
  config: Config,
  port: number,
  fetch: (req: Request) => Response | Promise<Response>,
  tls?: ReturnType<typeof loadTlsFiles>,
): Promise<ServerType> {
  const checkEveryMs = Math.min(1000, config.HEADERS_TIMEOUT_MS);
  const timeouts = {
    headersTimeout: config.HEADERS_TIMEOUT_MS,
    requestTimeout: Math.max(config.REQUEST_TIMEOUT_MS, config.HEADERS_TIMEOUT_MS),
    connectionsCheckingInterval: checkEveryMs,
  };
  return new Promise<ServerType>((resolve) => {
    const s = tls
      ? serve({ fetch, port, hostname: config.HOST, createServer: createHttpsServer, serverOptions: { ...tls, minVersion: 'TLSv1.2', ...timeouts } }, () =>
          resolve(s),
        )
      : serve({ fetch, port, hostname: config.HOST, serverOptions: timeouts }, () => resolve(s));
  });
}

function closeServer(server: ServerType): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if ('closeIdleConnections' in server) server.closeIdleConnections();
  return closed;
}
