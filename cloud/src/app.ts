// The composition root: every module built from explicit dependencies, in dependency order,
// then mounted. Building opens nothing and starts nothing; `start()` starts timers and jobs,
// `stop()` runs them down before the database closes.
import { OpenAPIHono } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import { createHash, timingSafeEqual } from 'node:crypto';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';
import { WIRE_PATHS } from '@icarus/shared';
import { createAmqpPublisher } from './adapters/amqp';
import { openObjectStore } from './adapters/object-store';
import { createMemoryRateLimitStore } from './adapters/rate-limit-memory';
import { createAdminModule, documentAdminApi } from './modules/admin';
import { createAnalyticsModule, documentCategoriesApi } from './modules/analytics';
import { createAuditModule, documentAuditApi } from './modules/audit';
import { createComplianceModule, documentComplianceApi, processorsFromConfig } from './modules/compliance';
import { createConsentModule, documentConsentApi } from './modules/consent';
import { createDevicesModule, documentMyDevicesApi } from './modules/devices';
import { createDirectoryModule } from './modules/directory';
import { createHomeModule } from './modules/home';
import { createIdentityModule, documentPeopleApi, SESSION_COOKIE } from './modules/identity';
import { createIngestionModule } from './modules/ingestion';
import { createKeysModule } from './modules/keys';
import { createNotificationModule, documentNotificationApi } from './modules/notification';
import { createProvisioningModule, documentProvisioningApi } from './modules/provisioning';
import { createReportingModule, documentReportsApi } from './modules/reporting';
import { createRightsModule, documentRightsApi } from './modules/rights';
import type { Config } from './platform/config';
import type { Database } from './platform/db/client';
import type { AppEnv } from './platform/env';
import { AppError } from './platform/errors';
import { clientAddress } from './platform/http/client-address';
import { rateLimit, type RateLimitStore } from './platform/http/rate-limit';
import { securityHeaders } from './platform/http/security-headers';
import { createEventOutbox, createEventRelay, type EventPublisher } from './platform/events';
import { createMetrics } from './platform/metrics';
import { createLocalBus, createPostgresBus, type InvalidationBus } from './platform/invalidation';
import { documentWireApi, registerSecuritySchemes } from './platform/openapi';
import type { ObjectStore } from './platform/object-store';
import { createScheduler } from './platform/scheduler';
import type { Secrets } from './platform/secrets';
import type { SealedData } from './platform/keyring';
import { ASSETS_PREFIX, assetRoutes } from './ui/assets';
import { apiReferencePage } from './ui/api-reference';
import { errorPage } from './ui/error-page';

export interface AppDeps {
  config: Config;
  database: Database;
  secrets: Secrets;
  logger: Logger;
  rateLimits?: RateLimitStore;
  /** How instances tell each other a cached row changed (Redis when configured; else PostgreSQL NOTIFY, or local on PGlite). */
  bus?: InvalidationBus;
  /** Where the event relay publishes (with AMQP_URL: RabbitMQ). Given, events are recorded whatever AMQP_URL says. */
  publisher?: EventPublisher;
  /** Where exports, audit archives and backups go (the configured store when not given). */
  objects?: ObjectStore;
}

/** Limits: a whole office may share one address; a device catching up sends 5+ batches/s. */
export const RATE_RULES = {
  perAddress: { ratePerSecond: 20, burst: 200 },
  perDevice: { ratePerSecond: 10, burst: 60 },
} as const;

export function createApp(deps: AppDeps) {
  const { config, database, secrets, logger } = deps;
  const metrics = createMetrics();
  const limits = deps.rateLimits ?? createMemoryRateLimitStore();
  const publicUrl = () => config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;
  const maxBodyBytes = config.MAX_BODY_BYTES;
  // Cron jobs run on one instance at a time (the leader), once per tick.
  const scheduler = createScheduler({ database, logger });
  const bus = deps.bus ?? (database.pg ? createPostgresBus(database.pg, logger) : createLocalBus());
  // Events for other consumers: recorded with each change only when there is a broker to carry them.
  const publisher =
    deps.publisher ??
    (config.AMQP_URL === undefined
      ? undefined
      : createAmqpPublisher({ url: config.AMQP_URL, exchange: config.AMQP_EXCHANGE, timeoutMs: config.EVENT_PUBLISH_TIMEOUT_MS, logger }));
  const events = createEventOutbox({ enabled: publisher !== undefined });
  const relay =
    publisher && config.ROLES.has('worker')
      ? createEventRelay({
          database,
          publisher,
          logger,
          metrics,
          source: config.EVENT_SOURCE,
          pollMs: config.EVENT_POLL_MS,
          retryBaseMs: config.EVENT_RETRY_BASE_MS,
          leaseMs: 2 * config.EVENT_PUBLISH_TIMEOUT_MS + 1000,
        })
      : undefined;

  // Modules, each after the ones it depends on.
  const objects = deps.objects ?? openObjectStore(config);
  // Keys first: the JWKS routes list its retired public keys; the sealed data it re-encrypts comes from modules made below.
  const sealed: SealedData[] = [];
  const keys = createKeysModule({
    database,
    secrets,
    sealed: () => sealed,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    logger,
    onResealed: (data, n) => metrics.keyRotationResealed.inc({ data }, n),
    onPending: (data, n) => metrics.keyRotationPending.set({ data }, n),
  });
  const audit = createAuditModule({
    database,
    objects,
    keys: secrets.auditKeys,
    knownPublicKeys: () => keys.service.knownPublicKeys('audit'),
    logger,
    events,
  });
  const directory = createDirectoryModule({ database, audit: audit.service });
  const identity = createIdentityModule({
    config,
    database,
    directory: directory.service,
    audit: audit.service,
    cookieKey: secrets.tokenKeys.newest.key,
    dataKeys: secrets.titleKeys,
    publicUrl,
    onRateLimited: (n) => metrics.rateLimited.inc({ limit: n }),
    apiTokenLimits: limits,
    onPurgeError: (err) => logger.error({ err }, 'session purge failed'),
    onAlertError: (err) => logger.error({ err }, 'could not tell an account holder of failed sign-ins'),
    onAccountError: (err) => logger.error({ err }, 'could not send a password reset link'),
  });
  const devices = createDevicesModule({
    database,
    audit: audit.service,
    directory: directory.service,
    tokenKeys: secrets.tokenKeys,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    limits,
    perDevice: RATE_RULES.perDevice,
    metrics,
    publicUrl,
    maxBodyBytes,
    bus,
    events,
  });
  const receiptContext = { jurisdiction: config.JURISDICTION, language: config.CONSENT_LANGUAGE, storageLocations: config.STORAGE_LOCATIONS };
  const consent = createConsentModule({
    database,
    bus,
    events,
    audit: audit.service,
    directory: directory.service,
    bindings: devices.bindings,
    devices: devices.service,
    receiptKeys: secrets.receiptKeys,
    knownReceiptKeys: () => keys.service.knownPublicKeys('receipt'),
    receiptContext,
    publicUrl,
  });
  const ingestion = createIngestionModule({
    database,
    consent: consent.service,
    devices: devices.service,
    directory: directory.service,
    audit: audit.service,
    titleKeys: secrets.titleKeys,
    metrics,
    limit: devices.limit,
    maxBodyBytes,
    events,
  });
  sealed.push(ingestion.sealed, identity.sealed);
  const analytics = createAnalyticsModule({
    database,
    ingestion: ingestion.service,
    directory: directory.service,
    consent: consent.service,
    audit: audit.service,
    logger,
    metrics,
  });
  const reporting = createReportingModule(
    {
      queries: analytics.queries,
      analytics: analytics.service,
      directory: directory.service,
      consent: consent.service,
      devices: devices.service,
      audit: audit.service,
      access: identity.policy,
    },
    { database, objects, logger, maxBodyBytes },
  );
  const compliance = createComplianceModule({
    database,
    reportDeps: reporting.reportDeps,
    reports: reporting.service,
    consent: consent.service,
    directory: directory.service,
    audit: audit.service,
    processors: processorsFromConfig(config),
  });
  const notification = createNotificationModule({
    config,
    database,
    devices: devices.service,
    directory: directory.service,
    audit: audit.service,
    consent: consent.service,
    signIns: identity.auth,
    accounts: identity.account,
    reports: reporting.service,
    orgIds: ingestion.service.orgIdsWithSpans,
    requireUser: identity.access.requireUser,
    maxBodyBytes,
    logger,
    dataKey: secrets.titleKeys,
    events,
  });
  sealed.push(notification.sealed);
  const rights = createRightsModule({
    database,
    audit: audit.service,
    analytics: analytics.service,
    ingestion: ingestion.service,
    devices: devices.service,
    directory: directory.service,
    notifications: notification.notifications,
    consent: consent.service,
    logger,
  });
  const provisioning = createProvisioningModule({
    database,
    directory: directory.provisioned,
    bindings: devices.bindings,
    rights: rights.rights,
    audit: audit.service,
    publicUrl,
    limits,
    onRateLimited: (n) => metrics.rateLimited.inc({ limit: n }),
  });
  const admin = createAdminModule({
    drafts: consent.drafts,
    consent: consent.service,
    devices: devices.service,
    bindings: devices.bindings,
    directory: directory.service,
    people: directory.people,
    importer: directory.importer,
    analytics,
    notifications: notification.notifications,
    audit: audit.service,
    publicUrl,
  });

  const home = createHomeModule({
    reports: reporting.service,
    compliance: compliance.coverage,
    drafts: consent.drafts,
    audit: audit.service,
    accounts: identity.account,
    fleet: devices.service,
    mailEnabled: config.SMTP_URL !== undefined,
  });

  const app = new OpenAPIHono<AppEnv>();
  app.use(requestId());
  // Outermost after the request id, so error and not-found answers carry the headers too.
  app.use(securityHeaders({ publicUrl, trustProxy: config.TRUST_PROXY, servesTls: config.TLS_CERT !== undefined }));
  app.use(async (c, next) => {
    const started = performance.now();
    c.set('log', logger.child({ requestId: c.get('requestId') }));
    c.set('bodyIdleMs', config.BODY_IDLE_TIMEOUT_MS);
    metrics.inFlight.inc();
    try {
      await next();
    } finally {
      metrics.inFlight.dec();
    }
    const route = routePath(c);
    const seconds = (performance.now() - started) / 1000;
    metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    metrics.httpDuration.observe({ method: c.req.method, route }, seconds);
    c.get('log').info({ method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 1000) }, 'request');
  });
  const renderError = (error: Error, c: Context<AppEnv>) => {
    const appError = error instanceof AppError ? error : new AppError('internal', 'Internal server error');
    if (!(error instanceof AppError)) (c.get('log') ?? logger).error({ err: error }, 'unhandled error');
    for (const [name, value] of Object.entries(appError.headers ?? {})) c.header(name, value);
    return c.json(appError.toBody(c.get('requestId')), appError.status);
  };
  // Pages answer errors as pages in the shell, with the person's navigation; /api and /v1 keep the JSON shape.
  const renderPageError = async (error: Error, c: Context<AppEnv>) => {
    if (answersJson(c.req.path)) return renderError(error, c);
    const appError = error instanceof AppError ? error : new AppError('internal', 'Internal server error');
    if (!(error instanceof AppError)) (c.get('log') ?? logger).error({ err: error }, 'unhandled error');
    for (const [name, value] of Object.entries(appError.headers ?? {})) c.header(name, value);
    const found = await identity.access.sessionOf(c).catch(() => undefined);
    if (appError.status === 401) return identity.access.signInRedirect(c, found?.stage ?? 'none');
    const user = found?.stage === 'active' ? found.user : undefined;
    const message = appError.code === 'internal' ? 'The server could not complete this request.' : appError.message;
    return c.html(errorPage({ status: appError.status, message, requestId: c.get('requestId'), user }), appError.status);
  };
  app.onError(renderPageError);
  app.notFound((c) =>
    renderPageError(
      new AppError('not_found', answersJson(c.req.path) ? `No route for ${c.req.method} ${c.req.path}` : `There is no page at ${c.req.path}.`),
      c,
    ),
  );

  const byAddress = rateLimit(
    limits,
    'address',
    RATE_RULES.perAddress,
    (c) => clientAddress(c, config.TRUST_PROXY),
    (n) => metrics.rateLimited.inc({ limit: n }),
  );
  app.use('/api/*', identity.guardApi);
  app.use(WIRE_PATHS.enroll, byAddress);
  app.use(WIRE_PATHS.token, byAddress);

  // Operations: probes on the public app, and alone on a process without the api role.
  const probes = new Hono<AppEnv>();
  probes.onError(renderError);
  probes.get('/healthz', (c) => c.json({ ok: true, roles: [...config.ROLES] }));
  probes.get('/readyz', async (c) => {
    try {
      await database.ping();
      return c.json({ ok: true, database: database.kind });
    } catch {
      throw new AppError('unavailable', 'Database is not reachable');
    }
  });
  app.route('/', probes);
  // Metrics name routes and volumes: behind a bearer token when one is set, and only on
  // METRICS_PORT (never the public port) when that is set.
  const metricsApp = new Hono<AppEnv>();
  metricsApp.onError(renderError);
  metricsApp.get('/metrics', async (c) => {
    if (config.METRICS_TOKEN !== undefined && !sameSecret(c.req.header('authorization') ?? '', `Bearer ${config.METRICS_TOKEN}`)) {
      throw new AppError('unauthorized', 'Metrics need the metrics bearer token', [], { 'www-authenticate': 'Bearer realm="metrics"' });
    }
    return c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });
  if (config.METRICS_PORT === undefined) app.route('/', metricsApp);
  // A worker or scheduler process answers probes and metrics only.
  const operationsApp = new Hono<AppEnv>();
  operationsApp.route('/', probes);
  if (config.METRICS_PORT === undefined) operationsApp.route('/', metricsApp);
  operationsApp.notFound((c) => c.json(new AppError('not_found', `This process (${[...config.ROLES].join(', ')}) serves no ${c.req.path}`).toBody(), 404));

  // The URL map. Each module's routes carry their full paths, listed here per module.
  const requireUser = identity.access.requireUser;
  const csrfOf = async (c: Context<AppEnv>) => (await identity.access.sessionOf(c))?.session.csrfSecret ?? '';
  const deviceAuth = devices.deviceAuth;
  app.route('/', devices.routes({ requireUser, csrfOf })); // /v1/devices/enroll|token|pair|binding, /me/devices, /api/me/devices*, /api/me/pairing-codes
  app.route('/', consent.routes({ deviceAuth, maxBodyBytes })); // /v1/policy, /v1/policy/diff, /v1/consent, /v1/receipt-keys, /privacy/policy/*
  app.route('/', ingestion.routes); // /v1/ingest
  app.route('/', identity.routes); // /api/session*, /api/me, /api/account/*, /api/audit/verify (GET, POST), /sign-in*, /sign-out, /account/*, /sso/oidc/*
  app.route('/', directory.routes({ requireUser, maxBodyBytes })); // /api/directory/import
  app.route('/', analytics.routes({ requireUser, maxBodyBytes })); // /api/categories/rules
  app.route('/', admin.routes({ requireUser, maxBodyBytes, csrfOf })); // /api/admin/*, /admin*
  // The viewer names people and speaks the org's time: the directory, given here (audit comes before it).
  const auditPeople = {
    find: directory.service.findMembers,
    timeZone: async (orgId: string) => (await directory.service.findOrg(orgId))?.timeZone ?? 'UTC',
  };
  app.route('/', audit.routes({ requireUser, people: auditPeople })); // /api/audit/events, /api/audit/export.csv, /audit, /audit/events/:seq, /audit/verify, /v1/audit-keys
  app.route('/', compliance.routes({ requireUser, csrfOf, deviceAuth, maxBodyBytes })); // /api/compliance/*, /api/reports/consent-coverage, /api/reports/device-health, /audit/compliance*, /me/data/notice, /v1/notice*
  app.route('/', notification.routes); // /api/notifications/*, /api/me/notifications
  app.route('/', rights.routes({ deviceAuth, requireUser, maxBodyBytes, csrfOf })); // /v1/me/*, /api/me/*, /me/data
  app.route('/', reporting.routes({ requireUser })); // /api/reports/*, /reports*
  app.route('/', provisioning.routes({ requireUser, csrfOf, maxBodyBytes })); // /scim/v2/*, /api/admin/provisioning/*, /admin/provisioning
  app.route('/', home.routes({ requireUser, csrfOf })); // /
  app.route(ASSETS_PREFIX, assetRoutes()); // the pages' stylesheets and scripts, /assets/<name>.<hash>.<ext>

  // The API reference, from the schemas the handlers validate with: every /v1 and /api
  // operation is in it (test/openapi-coverage.test.ts walks app.routes and says what is missing).
  registerSecuritySchemes(app, SESSION_COOKIE);
  documentWireApi(app);
  documentConsentApi(app);
  documentMyDevicesApi(app);
  documentPeopleApi(app);
  documentCategoriesApi(app);
  documentAdminApi(app);
  documentAuditApi(app);
  documentComplianceApi(app);
  documentNotificationApi(app);
  documentReportsApi(app);
  documentRightsApi(app);
  documentProvisioningApi(app);
  app.doc31('/openapi.json', () => apiDocument(publicUrl()));
  // The same document as a page to read: rendered here, nothing loaded from elsewhere.
  app.get(API_REFERENCE_PATH, (c) => c.html(apiReferencePage(app.getOpenAPI31Document(apiDocument(publicUrl())))));

  /**
   * Background work by role, in start order; stopped in reverse (erasures finish, then the
   * notification outbox, then the rollup consumer). The worker role consumes the outboxes; the
   * scheduler role registers every module's cron jobs and leads them (once per tick across instances).
   */
  const running = config.ROLES.has('worker') ? [identity, analytics, notification, rights, keys, reporting, ...(relay ? [relay] : [])] : [];
  const cronJobs = config.ROLES.has('scheduler') ? [audit.jobs, analytics.jobs, notification.jobs, reporting.jobs] : [];
  let scheduled: { stop: () => Promise<void> }[] = [];
  const extraStops: (() => Promise<void>)[] = [];
  return {
    app,
    /** Just /metrics, for start-up code to serve on METRICS_PORT. */
    metricsApp,
    /** Probes and metrics only: what a process without the api role serves. */
    operationsApp,
    /** Module services, for the start-up code and for tests that drive a service directly. */
    /** The object store exports, audit archives and backups go to. */
    objects,
    services: {
      audit: audit.service,
      auditViewer: audit.viewer,
      auditArchive: audit.archive,
      /** The audit module's scheduled jobs, to run one as the scheduler would. */
      auditJobs: audit.jobs,
      directory: directory.service,
      importer: directory.importer,
      people: directory.people,
      devices: devices.service,
      bindings: devices.bindings,
      consent: consent.service,
      drafts: consent.drafts,
      ingestion: ingestion.service,
      metrics,
      auth: identity.auth,
      account: identity.account,
      access: identity.access,
      policy: identity.policy,
      analytics: analytics.service,
      analyticsJobs: analytics.jobs,
      reports: reporting.service,
      exportCsv: reporting.exportCsv,
      exportJobs: reporting.exportJobs,
      compliance: compliance.coverage,
      complianceReport: compliance.report,
      compliancePacks: compliance.packs,
      noticeAcknowledgments: compliance.acknowledgments,
      notifications: notification.notifications,
      notificationWorker: notification.worker,
      notificationJobs: notification.jobs,
      rights: rights.rights,
      fleet: admin.fleet,
      provisioning: provisioning.service,
      scheduler,
      bus,
      /** What receipts state of where consent is given and records kept, from config. */
      receiptContext,
      /** The event relay of this process (worker role with a broker), for tests that drain it. */
      relay,
      keys: keys.service,
    },
    /** Starts the invalidation listener, then the background work of this process's roles. */
    async start() {
      await keys.register();
      await bus.start();
      if (cronJobs.length > 0 && scheduled.length === 0) {
        scheduled = cronJobs.map((jobs) => jobs.schedule(scheduler.schedule));
        scheduler.start();
      }
      for (const module of running) module.start();
    },
    /** Background work registers here; stop() runs it down before the database closes. */
    onStop(hook: () => Promise<void>) {
      extraStops.push(hook);
    },
    async stop() {
      for (const hook of extraStops.reverse()) await hook();
      for (const module of [...running].reverse()) await module.stop();
      await Promise.all(scheduled.map((s) => s.stop()));
      scheduled = [];
      await scheduler.stop();
      await bus.stop();
    },
  };
}
export type CloudApp = ReturnType<typeof createApp>;

/** Where the API reference page is served (public, like /openapi.json). */
export const API_REFERENCE_PATH = '/api-docs';

/** The document's head: the server is this deployment's public URL. */
export function apiDocument(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Icarus Nova API',
      version: '1',
      description:
        'The device wire API (`/v1`, device bearer tokens) and the web API (`/api`, the session cookie; writes also send X-CSRF-Token). Errors share one shape: `code`, `message`, `fields`.',
    },
    servers: [{ url: serverUrl, description: 'This deployment' }],
  };
}

/** The machine interfaces answer JSON whatever happens; everything else is a page a person reads. */
function answersJson(path: string): boolean {
  return (
    path.startsWith('/api/') ||
    path === '/api' ||
    path.startsWith('/v1/') ||
    path === '/v1' ||
    path.startsWith('/scim/') ||
    path === '/openapi.json' ||
    path === '/metrics'
  );
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
