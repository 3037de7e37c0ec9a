import { boolean, integer, pgTable, text, timestamp, uuid, index } from 'drizzle-orm/pg-core';

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
  },
  (t) => [index('sessions_user').on(t.userId), index('sessions_expires').on(t.expiresAt)],
);

/**
 * Failed sign-ins per email (lower-cased), known or not, so lockout behaves the same for
 * unknown addresses and gives away nothing about who exists.
 */
export const signInThrottle = pgTable('sign_in_throttle', {
  email: text('email').primaryKey(),
  failures: integer('failures').notNull(),
  windowStartedAt: timestamp('window_started_at', { withTimezone: true }).notNull(),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
});
