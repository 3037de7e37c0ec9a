import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';
import { createRollupEraser } from './analytics/erase';
import { createAnalyticsJobs } from './analytics/jobs';
import { createRollupQueries } from './analytics/queries';
import { analyticsRoutes } from './analytics/routes';
import { createAnalyticsService } from './analytics/service';
import { createAnalyticsStore } from './analytics/store';
import { adminApiRoutes } from './admin/api';
import { createFleetAdmin } from './admin/fleet';
import { adminPageRoutes } from './admin/page-routes';
import { createComplianceReport } from './audit/compliance-report';
import { auditPageRoutes } from './audit/page-routes';
import { auditApiRoutes } from './audit/routes';
import { createAuditService } from './audit/service';
import { createAuditViewer } from './audit/viewer';
import { createPolicyDrafts } from './consent/drafts';
import { createComplianceReports } from './reporting/compliance';
import { createCsvExport } from './reporting/export';
import { documentReportsApi } from './reporting/openapi';
import { reportRoutes } from './reporting/routes';
import { createReportingService } from './reporting/service';
import { webRoutes } from './web/routes';
import { createAuditStore } from './audit/store';
import type { Config } from './config';
import { policyPageRoutes } from './consent/page-routes';
import { consentRoutes } from './consent/routes';
import { createConsentService } from './consent/service';
import { createConsentStore } from './consent/store';
import type { Database } from './db/client';
import { deviceRoutes } from './devices/routes';
import { createDeviceService } from './devices/service';
import { createDeviceStore } from './devices/store';
import { createDirectoryService } from './directory/service';
import { createDirectoryStore } from './directory/store';
import type { AppEnv } from './env';
import { AppError } from './errors';
import { clientAddress } from './gateway/client-address';
import { perDeviceLimit, requireDevice } from './gateway/device-auth';
import { documentPeopleApi } from './gateway/openapi';
import { createPeopleAndAccess } from './gateway/people';
import { createMemoryRateLimitStore, rateLimit, type RateLimitStore } from './gateway/rate-limit';
import { ingestionRoutes } from './ingestion/routes';
import { createIngestionService } from './ingestion/service';
import { createIngestionStore } from './ingestion/store';
import { createTitleCipher } from './ingestion/title-cipher';
import { createNotificationModule } from './notification/module';
import { createMetrics } from './ops/metrics';
import { documentWireApi } from './ops/openapi';
import type { Secrets } from './ops/secrets';
import { documentRightsApi } from './rights/openapi';
import { createRightsModule } from './rights/module';
import { WIRE_PATHS } from '@icarus/shared';

export interface AppDeps {
  config: Config;
  database: Database;
  secrets: Secrets;
  logger: Logger;
  rateLimits?: RateLimitStore;
}

/** Limits: a whole office may share one address; a device catching up sends 5+ batches/s. */
export const RATE_RULES = {
  perAddress: { ratePerSecond: 20, burst: 200 },
  perDevice: { ratePerSecond: 10, burst: 60 },
} as const;

/** Builds every service from explicit dependencies and mounts the routes. No I/O here. */
export function createApp(deps: AppDeps) {
  const { config, database, secrets, logger } = deps;
  const metrics = createMetrics();
  const limits = deps.rateLimits ?? createMemoryRateLimitStore();
  const publicUrl = () => config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;

  const audit = createAuditService(createAuditStore(database));
  const directory = createDirectoryService(createDirectoryStore(database));
  const devices = createDeviceService({
    store: createDeviceStore(database),
    audit,
    directory,
    tokenSecret: secrets.tokenSecret,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  const consent = createConsentService({
    store: createConsentStore(database),
    audit,
    receiptKey: secrets.receiptPrivateKey,
    receiptKeyId: secrets.receiptKeyId,
    publicUrl,
  });
  const ingestion = createIngestionService({
    store: createIngestionStore(database),
    consent,
    devices,
    audit,
    titles: createTitleCipher(secrets.titleKey),
    metrics,
  });
  const people = createPeopleAndAccess({ config, database, directory, audit, limits, cookieKey: secrets.tokenSecret, dataKey: secrets.titleKey, publicUrl, onRateLimited: (n) => metrics.rateLimited.inc({ limit: n }), onPurgeError: (err) => logger.error({ err }, 'session purge failed') });
  // Rollups are fed from newly inserted spans, queued in memory and flushed every second.
  const analytics = createAnalyticsService({ store: createAnalyticsStore(database), eraser: createRollupEraser(database), ingestion, directory, audit, logger });
  ingestion.onInserted((owner, spans) => analytics.enqueue(owner, spans));
  const analyticsJobs = createAnalyticsJobs({ analytics, ingestion, consent, logger });
  const reportDeps = { queries: createRollupQueries(database), analytics, directory, consent, devices, audit, access: people.policy };
  const reports = createReportingService(reportDeps);
  const compliance = createComplianceReports({ ...reportDeps, viewed: reports.viewed });
  const exportCsv = createCsvExport(reportDeps, reports);
  // Notifications (outbox worker, daily and weekly notices) and employee data rights.
  const notify = createNotificationModule({ config, database, devices, directory, audit, consent, reports, orgIds: ingestion.orgIdsWithSpans, requireUser: people.access.requireUser, maxBodyBytes: config.MAX_BODY_BYTES, logger });
  const dataRights = createRightsModule({ database, audit, analytics, ingestion, devices, directory, notifications: notify.notifications, logger });
  // Admin and compliance: policy versions, devices and tokens, the audit viewer and report.
  const drafts = createPolicyDrafts({ store: createConsentStore(database), consent, audit, directory });
  const fleet = createFleetAdmin({ devices, directory, audit });
  const auditViewer = createAuditViewer(audit);
  const complianceReport = createComplianceReport({ compliance, consent, directory, audit });
  const services = {
    audit, directory, devices, consent, ingestion, metrics, auth: people.auth, access: people.access, policy: people.policy,
    analytics, analyticsJobs, reports, compliance, exportCsv,
    notifications: notify.notifications, notificationWorker: notify.worker, notificationJobs: notify.jobs, rights: dataRights.rights,
    drafts, fleet, auditViewer, complianceReport,
  };

  const app = new OpenAPIHono<AppEnv>();
  app.use(requestId());
  app.use(async (c, next) => {
    const started = performance.now();
    c.set('log', logger.child({ requestId: c.get('requestId') }));
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
  app.onError((error, c) => {
    const appError = error instanceof AppError ? error : new AppError('internal', 'Internal server error');
    if (!(error instanceof AppError)) (c.get('log') ?? logger).error({ err: error }, 'unhandled error');
    for (const [name, value] of Object.entries(appError.headers ?? {})) c.header(name, value);
    return c.json(appError.toBody(c.get('requestId')), appError.status);
  });
  app.notFound((c) => c.json(new AppError('not_found', `No route for ${c.req.method} ${c.req.path}`).toBody(c.get('requestId')), 404));

  const byAddress = rateLimit(limits, 'address', RATE_RULES.perAddress, (c) => clientAddress(c, config.TRUST_PROXY), (n) =>
    metrics.rateLimited.inc({ limit: n }),
  );
  app.use('/api/*', people.guardApi);
  app.use(WIRE_PATHS.enroll, byAddress);
  app.use(WIRE_PATHS.token, byAddress);

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    try {
      await database.ping();
      return c.json({ ok: true, database: database.kind });
    } catch {
      throw new AppError('unavailable', 'Database is not reachable');
    }
  });
  app.get('/metrics', async (c) => c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));

  const maxBodyBytes = config.MAX_BODY_BYTES;
  const deviceAuth = requireDevice(devices, perDeviceLimit(limits, RATE_RULES.perDevice, metrics));
  app.route('/', deviceRoutes({ devices, maxBodyBytes, tokenAudience: () => `${publicUrl()}${WIRE_PATHS.token}` }));
  app.route('/', consentRoutes({ consent, deviceAuth, maxBodyBytes, receiptPublicKey: secrets.receiptPublicKey, receiptKeyId: secrets.receiptKeyId }));
  app.route('/', policyPageRoutes(consent));
  app.route('/', ingestionRoutes({ ingestion, devices, limit: perDeviceLimit(limits, RATE_RULES.perDevice, metrics), maxBodyBytes }));
  app.route('/', people.routes);
  const requireUser = people.access.requireUser;
  app.route('/', analyticsRoutes({ analytics, requireUser, maxBodyBytes }));
  app.route('/', adminApiRoutes({ drafts, fleet, requireUser, maxBodyBytes }));
  app.route('/', auditApiRoutes({ viewer: auditViewer, report: complianceReport, requireUser }));
  const csrfOf = async (c: Context<AppEnv>) => (await people.access.sessionOf(c))?.session.csrfSecret ?? '';
  app.route('/', adminPageRoutes({ drafts, consent, fleet, directory, requireUser, csrfOf }));
  app.route('/', auditPageRoutes({ viewer: auditViewer, report: complianceReport, requireUser }));
  app.route('/', notify.routes);
  app.route('/', dataRights.routes({ deviceAuth, requireUser, maxBodyBytes, csrfOf: async (c) => (await people.access.sessionOf(c))?.session.csrfSecret ?? '' }));
  app.route('/', reportRoutes({ reports, compliance, exportCsv, requireUser }));
  app.route('/', webRoutes({ reports, requireUser }));

  documentWireApi(app);
  documentPeopleApi(app);
  documentReportsApi(app);
  documentRightsApi(app);
  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'Icarus Nova API', version: '1' } });

  const stopHooks: (() => Promise<void>)[] = [];
  people.start();
  stopHooks.push(() => people.stop());
  analytics.start();
  const scheduledJobs = analyticsJobs.schedule();
  // Registered first so they run last: jobs end, then queued rollups are flushed.
  stopHooks.push(() => analytics.stop(), () => scheduledJobs.stop());
  notify.start();
  dataRights.start();
  // Run in reverse: erasures in progress finish, then the outbox worker and schedule stop.
  stopHooks.push(() => notify.stop(), () => dataRights.stop());
  return {
    app,
    services,
    /** Background work registers here; stop() runs it down before the database closes. */
    onStop(hook: () => Promise<void>) {
      stopHooks.push(hook);
    },
    async stop() {
      for (const hook of stopHooks.reverse()) await hook();
    },
  };
}
export type CloudApp = ReturnType<typeof createApp>;
