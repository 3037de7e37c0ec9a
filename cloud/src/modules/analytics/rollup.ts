import { NO_APP, type Categorizer } from './categories';
import { weekOf } from '@icarus/shared';
import type { OrgDayRow, PresenceRow, RollupChanges, TeamDayRow, UserDayRow, UserWeekRow } from './store';

/** One span, or a group of spans already summed, as the rollups see it. */
export interface SpanFact {
  userId: string;
  day: string;
  app: string | null;
  title: string | null;
  idle: boolean;
  ms: number;
  spans: number;
  /** The span's start (ms); absent for a group of spans. */
  startMs?: number;
}

const QUARTER_HOUR = 900_000;

/**
 * The calendar day (YYYY-MM-DD) of an instant in a time zone. Every zone offset in use is a
 * multiple of 15 minutes, so one Intl call per quarter hour serves all spans inside it.
 */
export function dayInZone(timeZone: string): (at: Date) => string {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const cache = new Map<number, string>();
  return (at) => {
    const bucket = Math.floor(at.getTime() / QUARTER_HOUR);
    let day = cache.get(bucket);
    if (day === undefined) {
      day = format.format(new Date(bucket * QUARTER_HOUR));
      if (cache.size > 10_000) cache.clear();
      cache.set(bucket, day);
    }
    return day;
  };
}

/**
 * Sums span facts into rollup rows, one row per key, so a single upsert never touches a row
 * twice. Categories are looked up through the categorizer's per-app cache.
 */
export function aggregate(
  orgId: string,
  facts: Iterable<SpanFact>,
  categorizer: Categorizer,
  teamOf: (userId: string, day: string) => string | null,
): RollupChanges {
  const users = new Map<string, UserDayRow>();
  const teams = new Map<string, TeamDayRow>();
  const presence = new Map<string, PresenceRow>();
  const weeks = new Map<string, UserWeekRow>();
  const orgDays = new Map<string, OrgDayRow>();
  for (const f of facts) {
    const { category, productivity } = categorizer.of(f.app, f.title);
    const app = f.app ?? NO_APP;
    const active = f.idle ? 0 : f.ms;
    const idle = f.idle ? f.ms : 0;
    const userKey = `${f.userId}|${f.day}|${app}|${category}|${productivity}`;
    const u = users.get(userKey);
    if (u) {
      u.activeMs += active;
      u.idleMs += idle;
      u.spans += f.spans;
    } else {
      users.set(userKey, { orgId, userId: f.userId, day: f.day, app, category, productivity, activeMs: active, idleMs: idle, spans: f.spans });
    }
    const productive = productivity === 'productive' ? active : 0;
    const teamId = teamOf(f.userId, f.day);
    const presenceKey = `${f.userId}|${f.day}`;
    const p = presence.get(presenceKey);
    const firstStartMs = f.startMs ?? null;
    if (p) {
      p.activeMs += active;
      p.idleMs += idle;
      p.productiveMs += productive;
      p.firstStartMs = p.firstStartMs === null || firstStartMs === null ? null : Math.min(p.firstStartMs, firstStartMs);
    } else {
      presence.set(presenceKey, { orgId, day: f.day, userId: f.userId, teamId, activeMs: active, idleMs: idle, productiveMs: productive, firstStartMs });
      // Weeks change only when a person-day is new to this batch: once per person-day.
      const { week, bit } = weekOf(f.day);
      const weekKey = `${f.userId}|${week}`;
      const w = weeks.get(weekKey);
      if (w) w.days |= bit;
      else weeks.set(weekKey, { orgId, week, userId: f.userId, days: bit });
    }
    const o = orgDays.get(f.day);
    if (o) {
      o.activeMs += active;
      o.idleMs += idle;
      o.productiveMs += productive;
      o.spans += f.spans;
    } else {
      orgDays.set(f.day, { orgId, day: f.day, activeMs: active, idleMs: idle, productiveMs: productive, spans: f.spans });
    }
    if (teamId === null) continue;
    const teamKey = `${teamId}|${f.day}|${category}|${productivity}`;
    const t = teams.get(teamKey);
    if (t) {
      t.activeMs += active;
      t.idleMs += idle;
      t.spans += f.spans;
    } else {
      teams.set(teamKey, { orgId, teamId, day: f.day, category, productivity, activeMs: active, idleMs: idle, spans: f.spans });
    }
  }
  return {
    users: [...users.values()],
    teams: [...teams.values()],
    presence: [...presence.values()],
    weeks: [...weeks.values()],
    orgDays: [...orgDays.values()],
  };
}
