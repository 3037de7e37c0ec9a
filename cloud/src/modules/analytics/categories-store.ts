import { and, between, eq, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { rollupUserDaily, type Productivity } from './tables';

export interface AppTime {
  app: string;
  category: string;
  productivity: Productivity;
  activeMs: number;
}

/** The org's active time per app and the category it is filed under now, over a range of days. */
export function createCategoriesStore({ db }: Database) {
  return {
    async appTimes(orgId: string, from: string, to: string): Promise<AppTime[]> {
      const rows = await db
        .select({
          app: rollupUserDaily.app,
          category: rollupUserDaily.category,
          productivity: rollupUserDaily.productivity,
          activeMs: sql<string>`sum(${rollupUserDaily.activeMs})`,
        })
        .from(rollupUserDaily)
        .where(and(eq(rollupUserDaily.orgId, orgId), between(rollupUserDaily.day, from, to)))
        .groupBy(rollupUserDaily.app, rollupUserDaily.category, rollupUserDaily.productivity);
      return rows.map((r) => ({ ...r, activeMs: Number(r.activeMs) }));
    },
  };
}
