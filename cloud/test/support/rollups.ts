// Test-only: rollups written directly, as the analytics flush would write them, for past days
// that ingestion (which checks consent at each span's time) cannot reach.
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/platform/db/client';

export interface SeedApp {
  app: string;
  category?: string;
  productivity?: 'productive' | 'neutral' | 'unproductive';
  activeMs: number;
  idleMs?: number;
}

/** One person's day: the team it is attributed to (null: no team) and their time per app. */
export interface SeedPersonDay {
  userId: string;
  teamId: string | null;
  day: string;
  apps: SeedApp[];
}

function mondayBit(day: string): { week: string; bit: number } {
  const d = new Date(`${day}T00:00:00Z`);
  const offset = (d.getUTCDay() + 6) % 7;
  return { week: new Date(d.getTime() - offset * 86_400_000).toISOString().slice(0, 10), bit: 1 << offset };
}

/** Writes all five rollups for these person-days (each person-day once). */
export async function seedRollups(database: Database, orgId: string, personDays: readonly SeedPersonDay[]): Promise<void> {
  const orgDays = new Map<string, { a: number; i: number; p: number; s: number }>();
  const teamDays = new Map<string, { teamId: string; day: string; category: string; productivity: string; a: number; i: number; s: number }>();
  const weeks = new Map<string, { userId: string; week: string; bits: number }>();
  for (const pd of personDays) {
    let a = 0;
    let i = 0;
    let p = 0;
    for (const app of pd.apps) {
      const category = app.category ?? 'Development';
      const productivity = app.productivity ?? 'productive';
      const idle = app.idleMs ?? 0;
      await database.rows(sql`
        insert into rollup_user_daily (org_id, user_id, day, app, category, productivity, active_ms, idle_ms, spans)
        values (${orgId}, ${pd.userId}, ${pd.day}::date, ${app.app}, ${category}, ${productivity}, ${app.activeMs}, ${idle}, 1)`);
      a += app.activeMs;
      i += idle;
      if (productivity === 'productive') p += app.activeMs;
      if (pd.teamId) {
        const key = `${pd.teamId}|${pd.day}|${category}|${productivity}`;
        const t = teamDays.get(key) ?? { teamId: pd.teamId, day: pd.day, category, productivity, a: 0, i: 0, s: 0 };
        t.a += app.activeMs;
        t.i += idle;
        t.s += 1;
        teamDays.set(key, t);
      }
    }
    await database.rows(sql`
      insert into rollup_user_days (org_id, day, user_id, team_id, active_ms, idle_ms, productive_ms)
      values (${orgId}, ${pd.day}::date, ${pd.userId}, ${pd.teamId}, ${a}, ${i}, ${p})`);
    const o = orgDays.get(pd.day) ?? { a: 0, i: 0, p: 0, s: 0 };
    o.a += a;
    o.i += i;
    o.p += p;
    o.s += pd.apps.length;
    orgDays.set(pd.day, o);
    const { week, bit } = mondayBit(pd.day);
    const w = weeks.get(`${pd.userId}|${week}`) ?? { userId: pd.userId, week, bits: 0 };
    w.bits |= bit;
    weeks.set(`${pd.userId}|${week}`, w);
  }
  for (const [day, o] of orgDays) {
    await database.rows(sql`
      insert into rollup_org_daily (org_id, day, active_ms, idle_ms, productive_ms, spans) values (${orgId}, ${day}::date, ${o.a}, ${o.i}, ${o.p}, ${o.s})
      on conflict (org_id, day) do update set active_ms = rollup_org_daily.active_ms + excluded.active_ms, idle_ms = rollup_org_daily.idle_ms + excluded.idle_ms,
        productive_ms = rollup_org_daily.productive_ms + excluded.productive_ms, spans = rollup_org_daily.spans + excluded.spans`);
  }
  for (const t of teamDays.values()) {
    await database.rows(sql`
      insert into rollup_team_daily (org_id, team_id, day, category, productivity, active_ms, idle_ms, spans)
      values (${orgId}, ${t.teamId}, ${t.day}::date, ${t.category}, ${t.productivity}, ${t.a}, ${t.i}, ${t.s})`);
  }
  for (const w of weeks.values()) {
    await database.rows(sql`
      insert into rollup_user_weeks (org_id, week, user_id, days) values (${orgId}, ${w.week}::date, ${w.userId}, ${w.bits})
      on conflict (org_id, week, user_id) do update set days = rollup_user_weeks.days | excluded.days`);
  }
}
