import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../../platform/secret-box';
import type { NotificationStore, WebhookEndpointRow } from './store';

/**
 * Endpoint signing secrets in the Standard Webhooks form, `whsec_` + base64 of the key (32
 * random bytes), which the reference libraries load as they are. Stored sealed, bound to
 * the endpoint's id; the plain secret is shown to the admin once, when the endpoint is made.
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The HMAC key of a `whsec_` secret; throws on anything else. */
export function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new Error('a webhook secret is "whsec_" and base64');
  return Buffer.from(encoded, 'base64');
}

/**
 * Secrets kept before they were sealed were `whsec_` + base64url of 24 random bytes, stored in
 * clear. The same key bytes carry on, written in standard base64 (what a receiver now loads:
 * the old secret with `-` as `+`, `_` as `/`, padded) and sealed in place, so an admin converts
 * the secret they have and needs no new one.
 */
export function upgradedLegacySecret(stored: string): string | undefined {
  if (!stored.startsWith('whsec_')) return undefined;
  return `whsec_${Buffer.from(stored.slice('whsec_'.length), 'base64url').toString('base64')}`;
}

export function createWebhookSecrets(deps: { box: SecretBox; store: Pick<NotificationStore, 'replaceEndpointSecret' | 'endpointsWithClearSecrets'> }) {
  const { box, store } = deps;
  return {
    seal: (endpointId: string, secret: string) => box.seal(secret, endpointId),
    /** The endpoint's secret; a legacy clear one is upgraded and sealed on the way. */
    async open(endpoint: Pick<WebhookEndpointRow, 'id' | 'secret'>): Promise<string> {
      const legacy = upgradedLegacySecret(endpoint.secret);
      if (legacy === undefined) return box.open(endpoint.secret, endpoint.id);
      await store.replaceEndpointSecret(endpoint.id, endpoint.secret, box.seal(legacy, endpoint.id));
      return legacy;
    },
    /** Seals every secret still stored in clear; answers how many. */
    async sealClearSecrets(): Promise<number> {
      const rows = await store.endpointsWithClearSecrets();
      for (const row of rows) await this.open(row);
      return rows.length;
    },
  };
}
export type WebhookSecrets = ReturnType<typeof createWebhookSecrets>;
