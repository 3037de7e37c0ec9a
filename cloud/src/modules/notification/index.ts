import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AuditService } from '../audit';
import type { Config } from '../../platform/config';
import type { ConsentService } from '../consent';
import type { Database } from '../../platform/db/client';
import type { DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import type { AccountService, AuthService } from '../identity';
import type { RequireUser } from '../../platform/env';
import type { EventOutbox } from '../../platform/events';
import type { Keyring, SymmetricKey } from '../../platform/keyring';
import type { ReportingService } from '../reporting';
import { createSmtpMailer } from '../../adapters/mail';
import { createWebhookClient } from '../../adapters/webhook';
import { createChannels } from './channels';
import { createNotificationJobs } from './jobs';
import { notificationRoutes } from './routes';
import { createNotificationService } from './service';
import { createNotificationStore, type WebhookEndpointRow } from './store';
import { createWebhookSecrets } from './webhook-secrets';
import { createSecretBox, sealedSecrets } from '../../platform/secret-box';
import { createOutboxWorker } from './worker';

type NotificationConfig = Pick<
  Config,
  | 'SMTP_URL'
  | 'MAIL_FROM'
  | 'NOTIFY_POLL_MS'
  | 'NOTIFY_RETRY_BASE_MS'
  | 'NOTIFY_MAX_ATTEMPTS'
  | 'NOTIFY_WEBHOOK_TIMEOUT_MS'
  | 'WEBHOOK_RETRY_SCHEDULE'
  | 'WEBHOOK_ALLOW_HOSTS'
  | 'DEVICE_SILENT_DAYS'
  | 'WEEKLY_REPORT_CRON'
>;

/** The notification module wired from its dependencies: one call from the composition root. */
export function createNotificationModule(deps: {
  config: NotificationConfig;
  database: Database;
  devices: DeviceService;
  directory: DirectoryService;
  audit: AuditService;
  consent: ConsentService;
  /** Sign-in tells of failed attempts here; the holder is notified. */
  signIns: Pick<AuthService, 'onAlert'>;
  /** Invitation and password reset links, mailed here. */
  accounts: Pick<AccountService, 'onMail'>;
  reports: ReportingService;
  orgIds: () => Promise<string[]>;
  requireUser: RequireUser;
  maxBodyBytes: number;
  logger: Logger;
  /** The data key; webhook signing secrets are sealed under a subkey of it. */
  dataKey: Keyring<SymmetricKey>;
  /** Deliveries are announced through it, in the transaction that marks them delivered (absent: none are). */
  events?: EventOutbox;
}) {
  const { config, devices, directory, logger } = deps;
  const store = createNotificationStore(deps.database, deps.events);
  const now = () => new Date();
  const webhooks = createWebhookClient({ allowHosts: config.WEBHOOK_ALLOW_HOSTS, timeoutMs: config.NOTIFY_WEBHOOK_TIMEOUT_MS });
  const secretBox = createSecretBox(deps.dataKey, 'webhook-secrets');
  const secrets = createWebhookSecrets({ box: secretBox, store });
  // The channels tell the service of an endpoint that is gone; the service is made after them.
  let gone: (endpoint: WebhookEndpointRow) => Promise<void> = async () => undefined;
  const channels = createChannels({
    devices,
    store,
    mailer: createSmtpMailer(config.SMTP_URL),
    mailFrom: config.MAIL_FROM,
    webhooks,
    secrets,
    onGone: (endpoint) => gone(endpoint),
    now,
  });
  const notifications = createNotificationService({
    store,
    devices,
    directory,
    audit: deps.audit,
    logger,
    emailEnabled: channels.emailEnabled,
    checkWebhookUrl: webhooks.check,
    maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
    webhookMaxAttempts: config.WEBHOOK_RETRY_SCHEDULE.length + 1,
    secrets,
    now,
  });
  gone = (endpoint) => notifications.endpointGone(endpoint);
  deps.consent.onEvent((event) => notifications.onConsentEvent(event));
  deps.signIns.onAlert((alert) => notifications.onSignInAlert(alert));
  deps.accounts.onMail((mail) => notifications.onAccountMail(mail));
  const worker = createOutboxWorker({
    store,
    channels,
    logger,
    retryBaseMs: config.NOTIFY_RETRY_BASE_MS,
    onWebhookExhausted: (endpointId, lastError) => notifications.endpointFailing(endpointId, lastError),
    webhookSchedule: config.WEBHOOK_RETRY_SCHEDULE,
    now,
  });
  const jobs = createNotificationJobs({
    notifications,
    devices,
    directory,
    reports: deps.reports,
    orgIds: deps.orgIds,
    silentDays: config.DEVICE_SILENT_DAYS,
    weeklyCron: config.WEEKLY_REPORT_CRON,
    logger,
  });

  return {
    notifications,
    worker,
    jobs,
    routes: notificationRoutes({ notifications, requireUser: deps.requireUser, maxBodyBytes: deps.maxBodyBytes }),
    /** Webhook signing secrets, for the key rotation job: counted per key and re-sealed under the newest. */
    sealed: sealedSecrets({
      what: 'webhook secrets',
      box: secretBox,
      ring: deps.dataKey,
      keyCounts: () => store.endpointSecretKeyCounts(),
      notSealedWith: (prefix, after, limit) => store.endpointSecretsNotSealedWith(prefix, after, limit),
      replace: (id, before, after) => store.replaceEndpointSecret(id, before, after),
    }),
    start() {
      // Secrets stored in clear before they were sealed are sealed now, not at their next delivery.
      secrets
        .sealClearSecrets()
        .then((n) => n > 0 && logger.info({ endpoints: n }, 'notification: sealed webhook secrets stored in clear'))
        .catch((err: unknown) => logger.error({ err }, 'notification: could not seal webhook secrets stored in clear'));
      worker.start(config.NOTIFY_POLL_MS);
    },
    /** Ends the schedule, lets the delivery pass in progress finish, then closes the SMTP pool. */
    async stop() {
      await worker.stop();
      channels.close();
    },
  };
}
export type NotificationModule = ReturnType<typeof createNotificationModule>;

export type { NotificationService } from './service';
export { NOTIFICATION_PATHS } from './routes';
export { WEBHOOK_HEADERS, DELIVERY_HEADER, signWebhook } from './channels';
export { WebhookBody } from './routes';
export { EVENT_TYPES } from './templates';
export { documentNotificationApi } from './openapi';
