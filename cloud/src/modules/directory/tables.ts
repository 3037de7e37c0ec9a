import { DEFAULT_WORKING_WEEK, ROLES, type WorkingWeek } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import { bigint, boolean, date, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const orgs = pgTable('orgs', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  timeZone: text('time_zone').notNull().default('UTC'),
  worksCouncilRequired: boolean('works_council_required').notNull().default(false),
  /** The days and hours of work in the org's time zone: active time outside them is after hours. */
  workingWeek: jsonb('working_week').$type<WorkingWeek>().notNull().default(DEFAULT_WORKING_WEEK),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const teams = pgTable(
  'teams',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('teams_org_name').on(t.orgId, t.name)],
);

/** Everyone in an org's directory; `role` is the highest role they hold. An email is unique per org, not across orgs. */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    email: text('email').notNull(),
    name: text('name').notNull(),
    osUser: text('os_user'),
    role: text('role', { enum: ROLES }).notNull().default('employee'),
    teamId: uuid('team_id').references(() => teams.id),
    managerId: uuid('manager_id'),
    passwordHash: text('password_hash'),
    totpSecret: text('totp_secret'),
    /** Last TOTP time step accepted: a code is refused if its step is not newer (no replay). */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    worksCouncil: boolean('works_council').notNull().default(false),
    /** Signs in through the organisation's identity provider only (provisioned by SCIM): never given a password. */
    ssoOnly: boolean('sso_only').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
  },
  (t) => [
    // One person per email within an org; another org may have the same address for its own person.
    uniqueIndex('users_org_email').on(t.orgId, sql`lower(${t.email})`),
    // Sign-in looks an email up in every org before it knows which one.
    index('users_email_lookup').on(sql`lower(${t.email})`),
    index('users_org_os_user').on(t.orgId, t.osUser),
    index('users_team').on(t.teamId),
  ],
);

/** Who manages which team: a manager reads personal data of these teams' members only. */
export const teamManagers = pgTable(
  'team_managers',
  {
    teamId: uuid('team_id')
      .notNull()
      .references(() => teams.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index('team_managers_user').on(t.userId)],
);

/**
 * Who was in which team from when, in the org's days: reports attribute each person-day to the
 * team the person was in that day, so a move never rewrites a team's past. `validFrom` null:
 * since the person was first recorded; `validTo` null: still in force (exclusive otherwise).
 * `teamId` null: no team. Written on every membership change, in the change's transaction.
 */
export const teamMemberships = pgTable(
  'team_memberships',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => orgs.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    teamId: uuid('team_id').references(() => teams.id),
    validFrom: date('valid_from', { mode: 'string' }),
    validTo: date('valid_to', { mode: 'string' }),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('team_memberships_org_user').on(t.orgId, t.userId)],
);
