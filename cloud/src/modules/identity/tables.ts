import { boolean, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Web sessions. The id is sha256(token): the cookie's token never rests in the database,
 * so a leaked table cannot be replayed as cookies.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id').notNull(),
    orgId: uuid('org_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    /** Synchronizer CSRF token for this session; sent back in X-CSRF-Token or a form's _csrf. */
    csrfSecret: text('csrf_secret').notNull(),
    /** The second factor was checked for this session (or the user has none and needs none). */
    totpVerified: boolean('totp_verified').notNull().default(false),
    /** A TOTP secret being enrolled, kept with the session until a code confirms it. */
    pendingTotpSecret: text('pending_totp_secret'),
    /** How the first factor was proven: password or oidc. */
    method: text('method', { enum: ['password', 'oidc'] }).notNull(),
    /** The client address the session was started from, shown to its holder in the sessions list. */
    address: text('address'),
  },
  (t) => [index('sessions_user').on(t.userId), index('sessions_expires').on(t.expiresAt)],
);

/**
 * Failed sign-in attempts per account and client address. The account is the email as typed
 * (lower-cased), known or not, so unknown addresses are throttled exactly like real ones. An
 * attempt counts from the moment it is made until its sign-in completes; after a few, each
 * next attempt from that address must wait longer (`next_attempt_at`).
 */
export const signInFailures = pgTable(
  'sign_in_failures',
  {
    email: text('email').notNull(),
    address: text('address').notNull(),
    failures: integer('failures').notNull(),
    firstFailedAt: timestamp('first_failed_at', { withTimezone: true }).notNull(),
    lastFailedAt: timestamp('last_failed_at', { withTimezone: true }).notNull(),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.email, t.address] }), index('sign_in_failures_last').on(t.lastFailedAt)],
);

/**
 * Failures per account across every address in a fixed window: past the ceiling, addresses the
 * account has not signed in from are paced (`next_attempt_at`). `alerted_at`: when the holder
 * was last told, so one attack sends one notice per hour, whichever instance sees it.
 */
export const signInAccounts = pgTable('sign_in_accounts', {
  email: text('email').primaryKey(),
  windowStartedAt: timestamp('window_started_at', { withTimezone: true }).notNull(),
  failures: integer('failures').notNull(),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
  alertedAt: timestamp('alerted_at', { withTimezone: true }),
});

/** Addresses an account completed a sign-in from: the holder's own, spared the account-wide pace. */
export const signInKnownAddresses = pgTable(
  'sign_in_known_addresses',
  {
    email: text('email').notNull(),
    address: text('address').notNull(),
    lastSignedInAt: timestamp('last_signed_in_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.email, t.address] })],
);

/** The per-address limit on the sign-in routes (GCRA: one theoretical arrival time per key), shared by every instance. */
export const signInRate = pgTable('sign_in_rate', {
  key: text('key').primaryKey(),
  arrivalAt: timestamp('arrival_at', { withTimezone: true }).notNull(),
});

/**
 * One-time links of the account lifecycle: an invitation to set a first password, or a password
 * reset. Only sha256(token) is stored, so a leaked table opens nothing; each is used once, expires,
 * and a newer link of the same purpose for the same person retires the older ones (`used_at` set).
 */
export const accountTokens = pgTable(
  'account_tokens',
  {
    id: text('id').primaryKey(),
    purpose: text('purpose', { enum: ['invitation', 'password_reset'] }).notNull(),
    userId: uuid('user_id').notNull(),
    orgId: uuid('org_id').notNull(),
    /** Who sent it: an admin's id for invitations, null for a reset the person asked for. */
    createdBy: uuid('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [index('account_tokens_user').on(t.userId, t.purpose), index('account_tokens_expires').on(t.expiresAt)],
);

/**
 * Recovery codes, a second factor for when the authenticator is lost: `lookup` is the code's first
 * part in clear (to find the row), `hash` the argon2id hash of the whole code. Each is used once.
 */
export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    userId: uuid('user_id').notNull(),
    lookup: text('lookup').notNull(),
    hash: text('hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.lookup] })],
);

/**
 * API tokens for BI tools and scripts: read-only report access in the name of their creator.
 * Only sha256(token) is kept (the token is shown once); `scopes` are the report families it may
 * read, `team_ids` the teams (null: every team the creator may see). Whatever is stored here,
 * each use is checked again against the creator as they are now.
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id').notNull(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    scopes: text('scopes').array().notNull(),
    teamIds: uuid('team_ids').array(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  },
  (t) => [index('api_tokens_user').on(t.userId), index('api_tokens_org').on(t.orgId)],
);
