import { and, eq, inArray, isNull } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import type { Drizzle } from '../../platform/db/client';
import { orgs, teamMemberships } from './tables';

/** A drizzle transaction: membership history is always written beside the change it records. */
/** Rows per multi-row insert: far below PostgreSQL's 65,535 parameters per statement at any column count here. */
const SLICE_ROWS = 1_000;

/** `rows` in consecutive slices of at most SLICE_ROWS (none for no rows). */
export function slices<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += SLICE_ROWS) out.push(rows.slice(i, i + SLICE_ROWS));
  return out;
}

type Tx = Parameters<Parameters<Drizzle['transaction']>[0]>[0];

export interface Membership {
  userId: string;
  teamId: string | null;
  /** First day in force (the org's calendar day); null: since the person was first recorded. */
  validFrom: string | null;
  /** First day no longer in force; null: still in force. */
  validTo: string | null;
}

/** Today in a time zone, YYYY-MM-DD. */
export function dayIn(timeZone: string, at: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/**
 * Records people's team as of today in the org's zone: the open period is closed at today and a
 * new one opened, or (a second change the same day) the open period that began today is
 * corrected. A person with no history yet gets one period open since the start. Nothing is
 * written when the team is unchanged.
 */
export async function recordMemberships(tx: Tx, orgId: string, changes: readonly { userId: string; teamId: string | null }[], at: Date): Promise<void> {
  if (changes.length === 0) return;
  const [org] = await tx.select({ timeZone: orgs.timeZone }).from(orgs).where(eq(orgs.id, orgId));
  const today = dayIn(org?.timeZone ?? 'UTC', at);
  const open = await tx
    .select()
    .from(teamMemberships)
    .where(
      and(
        eq(teamMemberships.orgId, orgId),
        isNull(teamMemberships.validTo),
        inArray(
          teamMemberships.userId,
          changes.map((c) => c.userId),
        ),
      ),
    );
  const current = new Map(open.map((m) => [m.userId, m]));
  const inserts: (typeof teamMemberships.$inferInsert)[] = [];
  for (const change of changes) {
    const period = current.get(change.userId);
    if (!period) {
      inserts.push({ id: uuidv7(), orgId, userId: change.userId, teamId: change.teamId, validFrom: null, validTo: null });
    } else if (period.teamId === change.teamId) {
      continue;
    } else if (period.validFrom === today) {
      await tx.update(teamMemberships).set({ teamId: change.teamId, recordedAt: at }).where(eq(teamMemberships.id, period.id));
    } else {
      await tx.update(teamMemberships).set({ validTo: today }).where(eq(teamMemberships.id, period.id));
      inserts.push({ id: uuidv7(), orgId, userId: change.userId, teamId: change.teamId, validFrom: today, validTo: null });
    }
  }
  for (const slice of slices(inserts)) await tx.insert(teamMemberships).values(slice);
}

/** Every membership period of an org, oldest first per person. */
export async function membershipHistory(db: Drizzle, orgId: string): Promise<Membership[]> {
  return db
    .select({ userId: teamMemberships.userId, teamId: teamMemberships.teamId, validFrom: teamMemberships.validFrom, validTo: teamMemberships.validTo })
    .from(teamMemberships)
    .where(eq(teamMemberships.orgId, orgId))
    .orderBy(teamMemberships.userId, teamMemberships.validFrom);
}
