import { checkDayRange, Day, DayRangeFields } from '@icarus/shared';
import { z } from 'zod';

/** Wire shapes of the reports API; the web pages read exactly these. */
export const RangeFields = z.object(DayRangeFields);
export const RangeQuery = RangeFields.superRefine(checkDayRange);
const TeamRangeFields = z.object({ teamId: z.uuid(), ...DayRangeFields });
export const TeamRangeQuery = TeamRangeFields.superRefine(checkDayRange);
export const TeamQuery = z.object({ teamId: z.uuid() });
export const PersonRangeQuery = z.object({ userId: z.uuid(), ...DayRangeFields }).superRefine(checkDayRange);
/** No teamId: the whole org, person level only, for admins (see createCsvExport). */
export const ExportQuery = TeamRangeFields.extend({ teamId: z.uuid().optional(), level: z.enum(['team', 'person']).default('team') }).superRefine(
  checkDayRange,
);

/** An export job's id in a path: a malformed one is simply not found. */
export const ExportJobId = z.uuid().catch('00000000-0000-0000-0000-000000000000');
const ExportJobState = z.enum(['queued', 'running', 'done', 'failed', 'expired']);
export const ExportJob = z.object({
  id: z.uuid(),
  state: ExportJobState,
  query: z.object({ teamId: z.uuid().optional(), from: z.string().optional(), to: z.string().optional(), level: z.enum(['team', 'person']) }),
  bytes: z.int().describe('Bytes written so far; the file size once done'),
  filename: z.string().nullable(),
  requestedAt: z.string(),
  completedAt: z.string().nullable(),
  expiresAt: z.string().nullable().describe('When the download link and the file expire'),
  downloadUrl: z.string().nullable().describe('Only while done and not expired'),
});
export const ExportJobList = z.object({ exports: z.array(ExportJob) });

export const SuppressionReason = z.enum(['too_few_people', 'differs_by_too_few', 'complements_hidden']);
/**
 * Why a figure is hidden. `people` and `needed` say, for a group too small, how many people were
 * active and how many the policy needs ("3 of 5 people needed"): counts of people are published
 * (docs/PRIVACY-MODEL.md), their time is not.
 */
export const Hidden = z.object({ reason: SuppressionReason, explanation: z.string(), people: z.int().optional(), needed: z.int().optional() });

/** Cells (group, day) left out of every figure of a report, and why: the group is a team or null, people without a team. */
export const LeftOut = z.array(z.object({ teamId: z.uuid().nullable(), day: Day, reason: SuppressionReason }));

/** `today` in the org's time zone: days after it have no data yet, and the period holding it is still in progress. */
export const Range = z.object({ from: Day, to: Day, timeZone: z.string(), days: z.int(), today: Day });
const Ms = z.number().nonnegative();
const Share = z.number().min(0).max(1);

export const Figures = z.object({ activeMs: Ms, idleMs: Ms, productiveShare: Share.nullable() });
const Productivity = z.enum(['productive', 'neutral', 'unproductive']);
export const CategoryShare = z.object({ category: z.string(), productivity: Productivity, activeMs: Ms, share: Share });
export const DayState = z.enum(['shown', 'hidden', 'no_activity']);
export const PerPerson = z.object({ personDays: z.int(), activeMsPerPerson: Ms, activeMsPerPersonDay: Ms, idleMsPerPersonDay: Ms });

/**
 * Focus: stretches of at least 30 minutes of active time in apps counted productive, joined across
 * gaps under 2 minutes and broken by idle time or any other app; its time, per person-day and share.
 */
export const Focus = z.object({ activeMs: Ms, msPerPersonDay: Ms, share: Share });
/** Active time outside the org's working week (its days and hours, in its time zone), and its share. */
export const AfterHours = z.object({
  activeMs: Ms,
  share: Share,
  /** The working week the figure is counted against, in words: "Mon–Fri 08:00–18:00". */
  outside: z.string(),
  workingWeek: z.object({ days: z.array(z.int().min(1).max(7)), start: z.string(), end: z.string() }),
});

export const TeamSummary = z.object({
  team: z.object({ id: z.uuid(), name: z.string() }),
  range: Range,
  minGroupSize: z.int(),
  /** `shown`; `hidden` (too few people: `hidden` says how many of how many); `no_activity` (nothing recorded in the range). */
  status: z.enum(['shown', 'hidden', 'no_activity']),
  /** Set when the whole team is hidden; then every figure below is empty. */
  hidden: Hidden.nullable(),
  people: z.int().nullable(),
  totals: Figures.nullable(),
  /** Each day: `shown` with figures, `hidden` (with how many people of how many needed) or `no_activity`. */
  days: z.array(z.object({ day: Day, state: DayState, figures: Figures.nullable(), hidden: Hidden.nullable() })),
  /** Averages over the passing cells: their sum divided by the people (and person-days) in them. */
  perPerson: PerPerson.nullable(),
  /** Time in the Meetings category (shown rows only), and its share of active time. */
  meetings: z.object({ activeMs: Ms, share: Share }).nullable(),
  focus: Focus.nullable(),
  afterHours: AfterHours.nullable(),
  topApps: z.array(z.object({ app: z.string(), category: z.string(), activeMs: Ms, share: Share })),
  categories: z.array(CategoryShare),
  /** Apps or categories hidden or beyond the top list, pooled; null when the pool itself must stay hidden. */
  otherApps: z.object({ apps: z.int(), activeMs: Ms }).nullable(),
  notes: z.array(z.string()),
  /** The period of the same length just before, built the same way (its own passing cells). */
  previous: z
    .object({
      range: z.object({ from: Day, to: Day }),
      status: z.enum(['shown', 'hidden', 'no_activity']),
      hidden: Hidden.nullable(),
      people: z.int().nullable(),
      totals: Figures.nullable(),
      perPerson: PerPerson.nullable(),
      meetings: z.object({ activeMs: Ms, share: Share }).nullable(),
      focus: Focus.nullable(),
      afterHours: AfterHours.nullable(),
    })
    .nullable(),
  /** What changed and what stands out, in plain words, from the figures above only. */
  highlights: z.array(z.string()),
});
export type TeamSummary = z.infer<typeof TeamSummary>;

export const Trend = z.object({
  scope: z.object({ kind: z.enum(['org', 'team']), id: z.uuid(), name: z.string() }),
  range: Range,
  minGroupSize: z.int(),
  /** Each week is the sum of its passing cells; `leftOut` names the cells it does not include. */
  weeks: z.array(z.object({ week: Day, people: z.int().nullable(), figures: Figures.nullable(), hidden: Hidden.nullable(), leftOut: LeftOut })),
});
export type Trend = z.infer<typeof Trend>;

export const TeamComparison = z.object({
  range: Range,
  minGroupSize: z.int(),
  org: z.object({ people: z.int().nullable(), figures: Figures.nullable(), hidden: Hidden.nullable() }),
  teams: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      people: z.int().nullable(),
      figures: Figures.nullable(),
      hidden: Hidden.nullable(),
      /** The team's categories over its passing days (shown rows only, as in its team summary), largest first. */
      categories: z.array(CategoryShare),
    }),
  ),
  /** People without a team, a group like any other. */
  noTeam: z.object({ people: z.int().nullable(), figures: Figures.nullable(), hidden: Hidden.nullable() }),
  /** Cells in no figure above (the org total is the sum of every passing cell, no-team included). */
  leftOut: LeftOut,
  /** What stands out across teams (productive share and the categories behind it), in plain words. */
  highlights: z.array(z.string()),
});
export type TeamComparison = z.infer<typeof TeamComparison>;

export const PersonDetail = z.object({
  person: z.object({ id: z.uuid(), name: z.string(), teamId: z.uuid().nullable() }),
  range: Range,
  totals: Figures,
  days: z.array(z.object({ day: Day, figures: Figures })),
  /**
   * Days whose figures are kept back although the person is active: their team's cell that day
   * holds 1 to k-1 people not shown individually, whose time the difference would reveal.
   */
  withheldDays: z.array(Day),
  apps: z.array(z.object({ app: z.string(), category: z.string(), activeMs: Ms, idleMs: Ms })),
});
export type PersonDetail = z.infer<typeof PersonDetail>;

export const ConsentCoverage = z.object({
  policyVersion: z.int().nullable(),
  people: z.int(),
  byScope: z.array(z.object({ scope: z.string(), granted: z.int() })),
  counts: z.object({ granted: z.int(), declined: z.int(), withdrawn: z.int(), pendingReconsent: z.int(), noDecision: z.int() }),
  rows: z.array(
    z.object({
      userId: z.uuid(),
      name: z.string(),
      teamId: z.uuid().nullable(),
      state: z.enum(['granted', 'declined', 'withdrawn', 'no_decision']),
      granted: z.array(z.string()),
      policyVersion: z.int().nullable(),
      pendingReconsent: z.boolean(),
      decidedAt: z.iso.datetime().nullable(),
    }),
  ),
  recentWithdrawals: z.array(z.object({ userId: z.uuid().nullable(), deviceId: z.uuid(), at: z.iso.datetime(), remaining: z.array(z.string()) })),
});
export type ConsentCoverage = z.infer<typeof ConsentCoverage>;

export const DeviceHealth = z.object({
  devices: z.array(
    z.object({
      deviceId: z.uuid(),
      name: z.string(),
      platform: z.string(),
      userId: z.uuid().nullable(),
      lastSyncAt: z.iso.datetime().nullable(),
      agentVersion: z.string().nullable(),
      pendingSpans: z.int().nullable(),
      droppedSpans: z.int().nullable(),
      revoked: z.boolean(),
      stale: z.boolean(),
    }),
  ),
  summary: z.object({ total: z.int(), active: z.int(), stale: z.int(), revoked: z.int(), droppedSpans: z.int(), versions: z.record(z.string(), z.int()) }),
});
export type DeviceHealth = z.infer<typeof DeviceHealth>;

export const TeamList = z.object({ teams: z.array(z.object({ id: z.uuid(), name: z.string() })), today: Day, timeZone: z.string() });
export type TeamList = z.infer<typeof TeamList>;

export const TeamAppsQuery = z.object({ teamId: z.uuid(), category: z.string().min(1).max(200).optional(), ...DayRangeFields }).superRefine(checkDayRange);

/** A team's apps (optionally of one category) over its passing days, each app per day: the shown rows of the CSV, summed. */
export const TeamApps = z.object({
  team: z.object({ id: z.uuid(), name: z.string() }),
  range: Range,
  minGroupSize: z.int(),
  category: z.string().nullable(),
  status: z.enum(['shown', 'hidden', 'no_activity']),
  hidden: Hidden.nullable(),
  /** Active time of the team's passing days (the base of each share). */
  totalActiveMs: Ms.nullable(),
  apps: z.array(
    z.object({
      app: z.string(),
      category: z.string(),
      productivity: Productivity,
      activeMs: Ms,
      share: Share,
      /** Per day of the range: the app's shown row, or null where it has none (not used, hidden, or pooled into other apps). */
      days: z.array(z.object({ day: Day, activeMs: Ms.nullable() })),
    }),
  ),
  /** Time of the rows pooled as other apps on passing days (of this category, when one is asked for); null when none. */
  otherMs: Ms.nullable(),
});
export type TeamApps = z.infer<typeof TeamApps>;

/** A team's current members whose detail the reader may open: only where the policy allows individual views and the person consented. */
export const TeamPeople = z.object({
  team: z.object({ id: z.uuid(), name: z.string() }),
  individualViews: z.boolean(),
  /** Why no one (or not everyone) is listed, in plain words. */
  explanation: z.string(),
  people: z.array(z.object({ id: z.uuid(), name: z.string() })),
  /** Members not listed (no app usage consent in their latest decision, or the policy allows no individual view). */
  notListed: z.int(),
});
export type TeamPeople = z.infer<typeof TeamPeople>;
