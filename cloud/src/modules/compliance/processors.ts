import { objectStoreSettings, type Config } from '../../platform/config';
import type { PackProcessor } from './pack';

/**
 * The outside services this deployment's configuration sends personal data to, for the record of
 * processing: hosts and buckets only, never user names, passwords or keys.
 */
export function processorsFromConfig(config: Config): PackProcessor[] {
  const out: PackProcessor[] = [];
  const host = (url: string) => new URL(url).host;
  if (config.DATABASE_URL) out.push({ name: 'PostgreSQL database', purpose: 'stores every record the service keeps', location: host(config.DATABASE_URL) });
  if (config.SMTP_URL)
    out.push({ name: 'Mail server (SMTP)', purpose: 'sends sign-in, notification and report e-mails to named people', location: host(config.SMTP_URL) });
  const store = objectStoreSettings(config);
  if (store.kind === 's3')
    out.push({
      name: 'Object storage (S3 API)',
      purpose: 'keeps exports and archived records',
      location: `bucket ${store.bucket}${store.endpoint ? ` at ${host(store.endpoint)}` : ` in ${store.region}`}`,
    });
  if (config.OIDC_ISSUER) out.push({ name: 'Identity provider (OpenID Connect)', purpose: 'signs people in', location: host(config.OIDC_ISSUER) });
  if (config.REDIS_URL) out.push({ name: 'Redis', purpose: 'sessions, rate limits and cache entries', location: host(config.REDIS_URL) });
  if (config.AMQP_URL) out.push({ name: 'Message broker (AMQP)', purpose: 'carries events about decisions and records', location: host(config.AMQP_URL) });
  return out;
}
