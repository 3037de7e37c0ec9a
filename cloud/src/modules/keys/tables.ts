import { jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Every key a process of this deployment has held, by ring and id (never the key itself): when
 * it was first seen, when it was retired, and a signing key's public JWK, so receipts and audit
 * checkpoints it signed stay verifiable after its private key has left the configuration.
 */
export const keyringKeys = pgTable(
  'keyring_keys',
  {
    ring: text('ring').notNull(),
    keyId: text('key_id').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
    publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.ring, t.keyId] })],
);
