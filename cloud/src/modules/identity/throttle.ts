import { AppError } from '../../platform/errors';
import type { ThrottleStore } from './throttle-store';

/**
 * Slow the attacker, not the owner (docs/SECURITY.md explains the numbers):
 * - per account and client address, 3 attempts go unhindered; after the nth (n >= 3) the next
 *   from that address waits 2^(n-2) s (2, 4, 8 ... s), at most 15 min; 24 h without a failure
 *   forgets the count, and a completed sign-in from the address clears it;
 * - per account across the addresses the holder has not signed in from in 30 days, past 30
 *   failures in an hour each such address waits 30 s after the account's last failure:
 *   credential stuffing from many addresses is slowed to about 150 guesses an hour, nobody waits
 *   long, and the holder's own addresses are neither counted nor paced;
 * - the holder is told once an address they have not signed in from reaches 5 failures, or the
 *   account reaches the ceiling; at most one notice an hour.
 */
export const THROTTLE_RULES = {
  perAddress: { freeFailures: 3, maxDelaySeconds: 900, forgetAfterMs: 24 * 3600_000 },
  perAccount: { windowMs: 3600_000, ceiling: 30, paceMs: 30_000 },
  knownAddressMs: 30 * 24 * 3600_000,
  alert: { afterAddressFailures: 5, everyMs: 3600_000 },
} as const;

/** What the account holder is told: how many failures, from where, since when. */
export interface SignInAlert {
  /** The account as typed, lower-cased; the directory may have it in several orgs. */
  email: string;
  address: string;
  /** Failures from `address` since `firstFailedAt`. */
  addressFailures: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
  /** Failures from every address in the account's current hour. */
  accountFailures: number;
  /** Why now: this address passed the alert threshold, or the account its ceiling. */
  reason: 'address' | 'account';
}

export interface Attempt {
  email: string;
  address: string;
  addressFailures: number;
  addressFirstFailedAt: Date;
  accountFailures: number;
  known: boolean;
  at: Date;
}

export function createSignInThrottle(deps: { store: ThrottleStore; now: () => Date }) {
  const { store, now } = deps;
  const rules = THROTTLE_RULES;
  return {
    /**
     * Counts an attempt for (email, address) before anything is checked, or refuses it with 429
     * and Retry-After. The same work and the same answers whether or not the email exists.
     */
    async admit(email: string, address: string): Promise<Attempt> {
      const at = now();
      const known = await store.isKnown(email, address, new Date(at.getTime() - rules.knownAddressMs));
      const claim = await store.claim(email, address, at, rules, !known);
      if (!claim.admitted) throw slowedDown(claim.retryAt, at, claim.scope);
      return {
        email,
        address,
        addressFailures: claim.addressFailures,
        addressFirstFailedAt: claim.addressFirstFailedAt,
        accountFailures: claim.accountFailures,
        known,
        at,
      };
    },

    /** The alert a failed attempt calls for, if any; claimed once per hour across instances. */
    async alertFor(attempt: Attempt): Promise<SignInAlert | undefined> {
      const fromStranger = !attempt.known && attempt.addressFailures >= rules.alert.afterAddressFailures;
      const atCeiling = attempt.accountFailures >= rules.perAccount.ceiling;
      if (!fromStranger && !atCeiling) return undefined;
      if (!(await store.claimAlert(attempt.email, attempt.at, rules.alert.everyMs))) return undefined;
      return {
        email: attempt.email,
        address: attempt.address,
        addressFailures: attempt.addressFailures,
        firstFailedAt: attempt.addressFirstFailedAt,
        lastFailedAt: attempt.at,
        accountFailures: attempt.accountFailures,
        reason: fromStranger ? 'address' : 'account',
      };
    },

    /** The attempt's sign-in completed: its address's count is cleared (see the store). */
    completed: (attempt: Attempt) => store.completed(attempt.email, attempt.address, now(), !attempt.known),
    lift: (email: string) => store.lift(email),
    purge: () => store.purge(now(), rules, rules.knownAddressMs, rules.alert.everyMs),
  };
}
export type SignInThrottle = ReturnType<typeof createSignInThrottle>;

function slowedDown(retryAt: Date, at: Date, scope: 'address' | 'account'): AppError {
  const seconds = Math.max(1, Math.ceil((retryAt.getTime() - at.getTime()) / 1000));
  const wait = seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
  const message =
    scope === 'address'
      ? `Too many failed sign-ins to this account from your address; try again in ${wait}`
      : `Too many failed sign-ins to this account from many addresses; sign-in from a new address is slowed down, try again in ${wait}`;
  return new AppError('rate_limited', message, [{ path: 'email', problem: `too many failed sign-ins; try again in ${wait}` }], {
    'Retry-After': String(seconds),
  });
}
