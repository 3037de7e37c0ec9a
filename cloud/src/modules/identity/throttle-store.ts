import { and, eq, gt, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import type { RateLimitStore, RateRule } from '../../platform/http/rate-limit';
import { signInAccounts, signInFailures, signInKnownAddresses, signInRate } from './tables';

/** The numbers the store applies; `throttle.ts` holds the values and explains them. */
export interface ThrottleRules {
  perAddress: { freeFailures: number; maxDelaySeconds: number; forgetAfterMs: number };
  perAccount: { windowMs: number; ceiling: number; paceMs: number };
}

export type Claim =
  | { admitted: true; addressFailures: number; addressFirstFailedAt: Date; accountFailures: number }
  | { admitted: false; retryAt: Date; scope: 'address' | 'account' };

/** Thrown inside the claim's transaction to undo the part already counted. */
class Refused extends Error {
  constructor(readonly claim: Extract<Claim, { admitted: false }>) {
    super('refused');
  }
}

const at = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/** Seconds to wait after `n` failures from one address: none for the first few, then doubling to a cap. */
function delayAfter(n: SQL, rules: ThrottleRules['perAddress']): SQL {
  return sql`(case when ${n} >= ${rules.freeFailures} then least(power(2, ${n} - ${rules.freeFailures} + 1), ${rules.maxDelaySeconds}) else 0 end) * interval '1 second'`;
}

/**
 * Sign-in throttling state in PostgreSQL, so every instance on the database sees the same counts.
 * Each claim is one statement per table inside one transaction: concurrent attempts queue on the
 * row and each sees the count the previous one left.
 */
export function createThrottleStore({ db }: Database) {
  return {
    /**
     * Counts an attempt before its password or code is checked: against the (account, address)
     * row, and, when `gated` (not an address the holder has signed in from), against the
     * account's window. Refused, with nothing counted, while either says to wait.
     */
    async claim(email: string, address: string, now: Date, rules: ThrottleRules, gated: boolean): Promise<Claim> {
      const forgetBefore = new Date(now.getTime() - rules.perAddress.forgetAfterMs);
      const windowBefore = new Date(now.getTime() - rules.perAccount.windowMs);
      try {
        return await db.transaction(async (tx) => {
          const stale = sql`${signInFailures.lastFailedAt} < ${at(forgetBefore)}`;
          const n = sql`(case when ${stale} then 1 else ${signInFailures.failures} + 1 end)`;
          const [mine] = await tx
            .insert(signInFailures)
            .values({
              email,
              address,
              failures: 1,
              firstFailedAt: now,
              lastFailedAt: now,
              nextAttemptAt: sql`${at(now)} + ${delayAfter(sql`1`, rules.perAddress)}`,
            })
            .onConflictDoUpdate({
              target: [signInFailures.email, signInFailures.address],
              set: {
                failures: n,
                firstFailedAt: sql`case when ${stale} then ${at(now)} else ${signInFailures.firstFailedAt} end`,
                lastFailedAt: now,
                nextAttemptAt: sql`${at(now)} + ${delayAfter(n, rules.perAddress)}`,
              },
              setWhere: or(lte(signInFailures.nextAttemptAt, now), lt(signInFailures.lastFailedAt, forgetBefore)),
            })
            .returning({ failures: signInFailures.failures, firstFailedAt: signInFailures.firstFailedAt });
          if (!mine) {
            const [row] = await tx
              .select({ next: signInFailures.nextAttemptAt })
              .from(signInFailures)
              .where(and(eq(signInFailures.email, email), eq(signInFailures.address, address)));
            throw new Refused({ admitted: false, retryAt: row?.next ?? now, scope: 'address' });
          }

          // An address the holder signed in from is neither counted nor paced account-wide.
          if (!gated) return { admitted: true as const, addressFailures: mine.failures, addressFirstFailedAt: mine.firstFailedAt, accountFailures: 0 };
          const windowStale = sql`${signInAccounts.windowStartedAt} < ${at(windowBefore)}`;
          const m = sql`(case when ${windowStale} then 1 else ${signInAccounts.failures} + 1 end)`;
          const pace = (count: SQL) =>
            sql`${at(now)} + (case when ${count} >= ${rules.perAccount.ceiling} then ${rules.perAccount.paceMs} else 0 end) * interval '1 millisecond'`;
          const [account] = await tx
            .insert(signInAccounts)
            .values({ email, windowStartedAt: now, failures: 1, nextAttemptAt: pace(sql`1`) })
            .onConflictDoUpdate({
              target: signInAccounts.email,
              set: {
                failures: m,
                windowStartedAt: sql`case when ${windowStale} then ${at(now)} else ${signInAccounts.windowStartedAt} end`,
                nextAttemptAt: pace(m),
              },
              setWhere: or(lte(signInAccounts.nextAttemptAt, now), lt(signInAccounts.windowStartedAt, windowBefore)),
            })
            .returning({ failures: signInAccounts.failures });
          if (!account) {
            const [row] = await tx.select({ next: signInAccounts.nextAttemptAt }).from(signInAccounts).where(eq(signInAccounts.email, email));
            throw new Refused({ admitted: false, retryAt: row?.next ?? now, scope: 'account' });
          }
          return { admitted: true as const, addressFailures: mine.failures, addressFirstFailedAt: mine.firstFailedAt, accountFailures: account.failures };
        });
      } catch (error) {
        if (error instanceof Refused) return error.claim;
        throw error;
      }
    },

    /**
     * A completed sign-in: the address's count is cleared, its attempt taken back off the
     * account's window (when it was counted there), and the address remembered for the account.
     */
    async completed(email: string, address: string, now: Date, wasGated: boolean) {
      await db.delete(signInFailures).where(and(eq(signInFailures.email, email), eq(signInFailures.address, address)));
      if (wasGated)
        await db
          .update(signInAccounts)
          .set({ failures: sql`greatest(${signInAccounts.failures} - 1, 0)` })
          .where(eq(signInAccounts.email, email));
      await db
        .insert(signInKnownAddresses)
        .values({ email, address, lastSignedInAt: now })
        .onConflictDoUpdate({ target: [signInKnownAddresses.email, signInKnownAddresses.address], set: { lastSignedInAt: now } });
    },

    async isKnown(email: string, address: string, since: Date): Promise<boolean> {
      const [row] = await db
        .select({ email: signInKnownAddresses.email })
        .from(signInKnownAddresses)
        .where(and(eq(signInKnownAddresses.email, email), eq(signInKnownAddresses.address, address), gt(signInKnownAddresses.lastSignedInAt, since)));
      return row !== undefined;
    },

    /** Claims the right to tell the holder: true for one caller per `everyMs`, across instances. */
    async claimAlert(email: string, now: Date, everyMs: number): Promise<boolean> {
      const claimed = await db
        .update(signInAccounts)
        .set({ alertedAt: now })
        .where(and(eq(signInAccounts.email, email), or(isNull(signInAccounts.alertedAt), lte(signInAccounts.alertedAt, new Date(now.getTime() - everyMs)))))
        .returning({ email: signInAccounts.email });
      return claimed.length === 1;
    },

    /** Forgets every count for the account (a password reset lifts any slowdown). */
    async lift(email: string) {
      await db.delete(signInFailures).where(eq(signInFailures.email, email));
      await db.delete(signInAccounts).where(eq(signInAccounts.email, email));
    },

    /** Drops counts, windows and remembered addresses that no longer decide anything. */
    async purge(now: Date, rules: ThrottleRules, knownForMs: number, alertEveryMs: number): Promise<number> {
      const failures = await db
        .delete(signInFailures)
        .where(and(lt(signInFailures.lastFailedAt, new Date(now.getTime() - rules.perAddress.forgetAfterMs)), lt(signInFailures.nextAttemptAt, now)))
        .returning({ email: signInFailures.email });
      const accounts = await db
        .delete(signInAccounts)
        .where(
          and(
            lt(signInAccounts.windowStartedAt, new Date(now.getTime() - rules.perAccount.windowMs)),
            lt(signInAccounts.nextAttemptAt, now),
            or(isNull(signInAccounts.alertedAt), lt(signInAccounts.alertedAt, new Date(now.getTime() - alertEveryMs))),
          ),
        )
        .returning({ email: signInAccounts.email });
      const known = await db
        .delete(signInKnownAddresses)
        .where(lt(signInKnownAddresses.lastSignedInAt, new Date(now.getTime() - knownForMs)))
        .returning({ email: signInKnownAddresses.email });
      const rate = await db.delete(signInRate).where(lt(signInRate.arrivalAt, now)).returning({ key: signInRate.key });
      return failures.length + accounts.length + known.length + rate.length;
    },
  };
}
export type ThrottleStore = ReturnType<typeof createThrottleStore>;

/**
 * The per-address request limit of the sign-in routes as a rate-limit store in PostgreSQL (GCRA):
 * a request is let through when the key's theoretical arrival time is at most `burst - 1`
 * intervals ahead, and moves it one interval on. One conditional statement, so instances agree.
 */
export function createDatabaseRateLimitStore({ db }: Database): RateLimitStore {
  return {
    async take(key: string, rule: RateRule, nowMs: number): Promise<number> {
      const now = new Date(nowMs);
      const intervalMs = 1000 / rule.ratePerSecond;
      const latest = new Date(nowMs + intervalMs * (rule.burst - 1));
      const [taken] = await db
        .insert(signInRate)
        .values({ key, arrivalAt: new Date(nowMs + intervalMs) })
        .onConflictDoUpdate({
          target: signInRate.key,
          set: { arrivalAt: sql`greatest(${signInRate.arrivalAt}, ${at(now)}) + ${intervalMs} * interval '1 millisecond'` },
          setWhere: sql`greatest(${signInRate.arrivalAt}, ${at(now)}) <= ${at(latest)}`,
        })
        .returning({ arrivalAt: signInRate.arrivalAt });
      if (taken) return 0;
      const [row] = await db.select({ arrivalAt: signInRate.arrivalAt }).from(signInRate).where(eq(signInRate.key, key));
      return Math.max(1, Math.ceil(((row?.arrivalAt.getTime() ?? nowMs) - latest.getTime()) / 1000));
    },
  };
}
