import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, smallint, text, timestamp, uuid, date } from 'drizzle-orm/pg-core';

export type Productivity = 'productive' | 'neutral' | 'unproductive';

/**
 * Daily totals per person, app and category, the day taken in the org's time zone.
 * Fed by deltas from newly inserted spans; weeks and months are sums of these rows.
 * Keyed by user first so a team's rows (a handful of users) are a few index range scans.
 */
export const rollupUserDaily = pgTable(
  'rollup_user_daily',
  {
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    app: text('app').notNull(),
    category: text('category').notNull(),
    productivity: text('productivity', { enum: ['productive', 'neutral', 'unproductive'] }).notNull(),
    activeMs: bigint('active_ms', { mode: 'number' }).notNull(),
    idleMs: bigint('idle_ms', { mode: 'number' }).notNull(),
    spans: integer('spans').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId, t.day, t.app, t.category, t.productivity] })],
);

/** The smaller rollup org-wide trends read: per team, day and category (team as at ingest). */
export const rollupTeamDaily = pgTable(
  'rollup_team_daily',
  {
    orgId: uuid('org_id').notNull(),
    teamId: uuid('team_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    category: text('category').notNull(),
    productivity: text('productivity', { enum: ['productive', 'neutral', 'unproductive'] }).notNull(),
    activeMs: bigint('active_ms', { mode: 'number' }).notNull(),
    idleMs: bigint('idle_ms', { mode: 'number' }).notNull(),
    spans: integer('spans').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.day, t.teamId, t.category, t.productivity] })],
);

/**
 * Who had any activity on which day, with their team and that person-day's totals:
 * distinct-people counts for the minimum-group-size rule and the per-person-per-day figures
 * of a team summary come from here (one row per person-day) without touching the big rollup,
 * whose rows are per app as well (~7x more).
 */
export const rollupUserDays = pgTable(
  'rollup_user_days',
  {
    orgId: uuid('org_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    userId: uuid('user_id').notNull(),
    teamId: uuid('team_id'),
    activeMs: bigint('active_ms', { mode: 'number' }).notNull().default(0),
    idleMs: bigint('idle_ms', { mode: 'number' }).notNull().default(0),
    productiveMs: bigint('productive_ms', { mode: 'number' }).notNull().default(0),
    /**
     * That day's focus and after-hours time (see analytics/focus-store.ts), valid while `focusBasis`
     * equals the org's settings and no span was added since (`focusOwedFrom` null); the focus
     * upkeep job computes them again.
     */
    focusMs: bigint('focus_ms', { mode: 'number' }),
    afterHoursMs: bigint('after_hours_ms', { mode: 'number' }),
    focusBasis: text('focus_basis'),
    /** The earliest start of the spans the consumer added since the figures were computed. */
    focusOwedFrom: timestamp('focus_owed_from', { withTimezone: true, precision: 3 }),
    /**
     * The start of the day's last span that no earlier span runs into and that begins a new
     * stretch, with the focus and after-hours time before it: nothing after it can change those,
     * so while every added span starts after it, the day's figures are these plus what its spans
     * from there give (a few minutes of today's spans, not all of them).
     */
    focusCut: timestamp('focus_cut', { withTimezone: true, precision: 3 }),
    cutFocusMs: bigint('cut_focus_ms', { mode: 'number' }),
    cutAfterHoursMs: bigint('cut_after_hours_ms', { mode: 'number' }),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.day, t.userId] }),
    index('rollup_user_days_team').on(t.orgId, t.teamId, t.day),
    // A team summary asks for a handful of people over a range: person first, then day.
    index('rollup_user_days_user').on(t.orgId, t.userId, t.day),
    // What the focus upkeep job still owes: rows without a stamp or with spans added since (today's, mostly).
    index('rollup_user_days_focus_owed')
      .on(t.orgId, t.day)
      .where(sql`focus_basis is null or focus_owed_from is not null`),
  ],
);

/**
 * Who was active in which ISO week (Monday), with a bit per weekday (bit 0 = Monday): the
 * org-wide trend counts distinct people per week from ~1 row per person-week instead of
 * de-duplicating ~5 person-days, and the bits keep a range that starts or ends mid-week exact.
 */
export const rollupUserWeeks = pgTable(
  'rollup_user_weeks',
  {
    orgId: uuid('org_id').notNull(),
    week: date('week', { mode: 'string' }).notNull(),
    userId: uuid('user_id').notNull(),
    days: smallint('days').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.week, t.userId] })],
);

/** The whole org per day (every person, with or without a team): the org-wide trend's sums. */
export const rollupOrgDaily = pgTable(
  'rollup_org_daily',
  {
    orgId: uuid('org_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    activeMs: bigint('active_ms', { mode: 'number' }).notNull(),
    idleMs: bigint('idle_ms', { mode: 'number' }).notNull(),
    productiveMs: bigint('productive_ms', { mode: 'number' }).notNull(),
    spans: integer('spans').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.day] })],
);

export interface CategoryRule {
  /** Regular expression on the app name (case-insensitive). */
  app: string;
  /** Optional regular expression on the window title, when titles are collected. */
  title?: string | undefined;
  category: string;
  productivity: Productivity;
}

/** An org's own rules, evaluated before the built-in defaults; one row per org, versioned. */
export const categoryRules = pgTable('category_rules', {
  orgId: uuid('org_id').primaryKey(),
  rules: jsonb('rules').$type<CategoryRule[]>().notNull(),
  version: integer('version').notNull(),
  updatedBy: uuid('updated_by'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
