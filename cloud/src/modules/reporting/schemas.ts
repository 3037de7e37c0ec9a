import { checkDayRange, Day, DayRangeFields } from '@icarus/shared';
import { z } from 'zod';

/** Wire shapes of the reports API; the web pages read exactly these. */
export const RangeFields = z.object(DayRangeFields);
export const RangeQuery = RangeFields.superRefine(checkDayRange);
const TeamRangeFields = z.object({ teamId: z.uuid(), ...DayRangeFields });
export const TeamRangeQuery = TeamRangeFields.superRefine(checkDayRange);
export const PersonRangeQuery = z.object({ userId: z.uuid(), ...DayRangeFields }).superRefine(checkDayRange);
/** No teamId: the whole org, person level only, for admins (see createCsvExport). */
export const ExportQuery = TeamRangeFields.extend({ teamId: z.uuid().optional(), level: z.enum(['team', 'person']).default('team') }).superRefine(
  checkDayRange,
);

export const SuppressionReason = z.enum(['too_few_people', 'differs_by_too_few', 'complements_hidden']);
export const Hidden = z.object({ reason: SuppressionReason, explanation: z.string() });

/** Cells (group, day) left out of every figure of a report, and why: the group is a team or null, people without a team. */
export const LeftOut = z.array(z.object({ teamId: z.uuid().nullable(), day: Day, reason: SuppressionReason }));

export const Range = z.object({ from: Day, to: Day, timeZone: z.string(), days: z.int() });
const Ms = z.number().nonnegative();
const Share = z.number().min(0).max(1);

export const Figures = z.object({ activeMs: Ms, idleMs: Ms, productiveShare: Share.nullable() });

export const TeamSummary = z.object({
  team: z.object({ id: z.uuid(), name: z.string() }),
  range: Range,
  minGroupSize: z.int(),
  /** Set when the whole team is hidden; then every figure below is empty. */
  hidden: Hidden.nullable(),
  people: z.int().nullable(),
  totals: Figures.nullable(),
  days: z.array(z.object({ day: Day, figures: Figures.nullable(), hidden: Hidden.nullable() })),
  topApps: z.array(z.object({ app: z.string(), category: z.string(), activeMs: Ms, share: Share })),
  categories: z.array(z.object({ category: z.string(), productivity: z.enum(['productive', 'neutral', 'unproductive']), activeMs: Ms, share: Share })),
  /** Apps or categories hidden or beyond the top list, pooled; null when the pool itself must stay hidden. */
  otherApps: z.object({ apps: z.int(), activeMs: Ms }).nullable(),
  notes: z.array(z.string()),
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
  teams: z.array(z.object({ id: z.uuid(), name: z.string(), people: z.int().nullable(), figures: Figures.nullable(), hidden: Hidden.nullable() })),
  /** People without a team, a group like any other. */
  noTeam: z.object({ people: z.int().nullable(), figures: Figures.nullable(), hidden: Hidden.nullable() }),
  /** Cells in no figure above (the org total is the sum of every passing cell, no-team included). */
  leftOut: LeftOut,
});
export type TeamComparison = z.infer<typeof TeamComparison>;

export const PersonDetail = z.object({
  person: z.object({ id: z.uuid(), name: z.string(), teamId: z.uuid().nullable() }),
  range: Range,
  totals: Figures,
  days: z.array(z.object({ day: Day, figures: Figures })),
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
