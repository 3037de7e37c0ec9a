import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { AuditService } from '../audit';
import type { DirectoryService } from '../directory';
import type { UserRow } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import type { SecretBox } from '../../platform/secret-box';
import type { SessionRow, SessionStore } from './session-store';
import type { Attempt, SignInAlert, SignInThrottle } from './throttle';
import type { RecoveryCodes } from './recovery-codes';
import { matchTotpStep, newTotpSecret, totpUri } from './totp';

/** Where a request came from when a service is called without one (seeds, tests, the command line). */
const NO_ADDRESS = 'local';

/** Sliding idle timeout, hard cap, and how long a half-signed-in session may wait for TOTP. */
export const SESSION_RULES = {
  idleMs: 12 * 3600_000,
  absoluteMs: 7 * 24 * 3600_000,
  pendingMs: 10 * 60_000,
  /** Expiry is pushed forward at most once a minute, not on every request. */
  touchEveryMs: 60_000,
} as const;

/** What the session still needs before the person is fully signed in. */
export type SessionStage = 'active' | 'needs_totp' | 'needs_enrollment';

export interface ResolvedSession {
  session: SessionRow;
  user: SignedInUser;
  stage: SessionStage;
  hasTotp: boolean;
}

export interface StartedSession {
  token: string;
  session: SessionRow;
  stage: SessionStage;
}

/**
 * The email and password open accounts in more than one organisation: the caller asks which
 * one and tries again with its id. Only these organisations are named, to someone who has just
 * proven the password of each; a wrong password never gets this far.
 */
export class OrganizationChoiceNeeded extends AppError {
  constructor(readonly organizations: { id: string; name: string }[]) {
    super('conflict', 'This email and password open accounts in more than one organization; choose one', [
      { path: 'orgId', problem: 'choose the organization to sign in to' },
    ]);
  }
}

export const sessionIdOf = (token: string) => createHash('sha256').update(token).digest('hex');

function stageOf(user: UserRow, session: Pick<SessionRow, 'totpVerified'>): SessionStage {
  if (user.totpSecret) return session.totpVerified ? 'active' : 'needs_totp';
  // Admins hold the keys to the whole org: no admin session without a second factor.
  return user.role === 'admin' ? 'needs_enrollment' : 'active';
}

export function createAuthService(deps: {
  directory: DirectoryService;
  store: SessionStore;
  throttle: SignInThrottle;
  audit: AuditService;
  /** Seals TOTP seeds at rest: a database dump alone must not yield second factors. */
  totpBox: SecretBox;
  /** One-time codes that stand in for a TOTP code when the authenticator is lost. */
  recovery: RecoveryCodes;
  now?: () => Date;
  /** Errors of the work that tells a holder of failed attempts; it never fails a sign-in. */
  onAlertError?: (error: unknown) => void;
}) {
  const { directory, store, throttle, audit, totpBox, recovery } = deps;
  const now = deps.now ?? (() => new Date());
  // Verifying against a real hash for unknown emails keeps the timing the same for both.
  let decoyHash: Promise<string> | undefined;
  const decoy = () => (decoyHash ??= hash(randomBytes(16).toString('hex')));

  const alertListeners: ((alert: SignInAlert) => Promise<void>)[] = [];
  const alerting = new Set<Promise<void>>();

  /**
   * After a failed attempt: audited in each org that has the email, and the holder told when
   * the attempt crosses a threshold. Both run beside the answer, not before it, so they add no
   * time that would set known emails apart from unknown ones.
   */
  function failed(attempt: Attempt, orgIds: string[], reason: 'password' | 'totp') {
    const telling = (async () => {
      for (const orgId of orgIds)
        await audit.record({
          orgId,
          actorType: 'system',
          actorId: 'gateway',
          action: 'auth.sign_in_failed',
          details: { email: attempt.email, reason, address: attempt.address, failuresFromAddress: attempt.addressFailures },
        });
      const alert = await throttle.alertFor(attempt);
      if (alert) for (const listener of alertListeners) await listener(alert);
    })().catch((error: unknown) => deps.onAlertError?.(error));
    alerting.add(telling);
    void telling.finally(() => alerting.delete(telling));
  }

  /** The attempt's sign-in is complete once no factor is missing: the address's count is cleared. */
  async function completedIf(stage: SessionStage, attempt: Attempt) {
    if (stage !== 'needs_totp') await throttle.completed(attempt);
  }

  async function start(user: UserRow, method: SessionRow['method'], address: string | null = null): Promise<StartedSession> {
    const token = randomBytes(32).toString('base64url');
    const at = now();
    const pending: SessionRow = {
      id: sessionIdOf(token),
      userId: user.id,
      orgId: user.orgId,
      createdAt: at,
      lastSeenAt: at,
      expiresAt: at,
      csrfSecret: randomBytes(32).toString('base64url'),
      totpVerified: false,
      pendingTotpSecret: null,
      method,
      address,
    };
    const stage = stageOf(user, pending);
    const session = { ...pending, expiresAt: new Date(at.getTime() + (stage === 'active' ? SESSION_RULES.idleMs : SESSION_RULES.pendingMs)) };
    await store.insert(session);
    await audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.id, action: 'auth.sign_in', details: { method, stage } });
    return { token, session, stage };
  }

  async function requireSession(sessionId: string) {
    const session = await store.find(sessionId);
    const user = session ? await directory.findUser(session.userId) : undefined;
    if (!session || !user || session.expiresAt <= now() || user.deactivatedAt) throw new AppError('unauthorized', 'Not signed in or the session has expired');
    return { session, user };
  }

  async function claimCode(user: UserRow, secret: string, code: string): Promise<boolean> {
    const step = matchTotpStep(secret, code, now().getTime());
    return step !== null && (await directory.claimTotpStep(user.id, step));
  }

  return {
    /**
     * Email and password, from `address` (the client address; see throttle.ts). The email may
     * be in several orgs: the password is tried against each, and `orgId` picks one when it
     * opens more than one.
     */
    async signInWithPassword(input: { email: string; password: string; orgId?: string | undefined; address?: string }): Promise<StartedSession> {
      const email = input.email.trim().toLowerCase();
      const address = input.address ?? NO_ADDRESS;
      const attempt = await throttle.admit(email, address);
      const people = await directory.findUsersByEmail(email);
      const candidates = people.filter((u) => u.passwordHash && !u.deactivatedAt && (input.orgId === undefined || u.orgId === input.orgId));
      // Tried side by side, so an email in two orgs costs about the time of one; none: the decoy.
      const opened =
        candidates.length === 0
          ? (await verify(await decoy(), input.password), [])
          : (await Promise.all(candidates.map(async (u) => ((await verify(u.passwordHash ?? '', input.password)) ? [u] : [])))).flat();
      const [user, ...others] = opened;
      if (!user) {
        failed(attempt, [...new Set(people.map((u) => u.orgId))], 'password');
        throw new AppError('unauthorized', 'Email or password is wrong', [{ path: 'password', problem: 'email or password is wrong' }]);
      }
      if (others.length > 0) {
        const organizations = await Promise.all(opened.map(async (u) => ({ id: u.orgId, name: (await directory.findOrg(u.orgId))?.name ?? u.orgId })));
        throw new OrganizationChoiceNeeded(organizations.sort((a, b) => a.name.localeCompare(b.name)));
      }
      const started = await start(user, 'password', input.address ?? null);
      await completedIf(started.stage, attempt);
      return started;
    },

    /** The identity provider proved the email; the directory decides who that is. */
    async signInWithVerifiedEmail(email: string, orgId: string): Promise<StartedSession> {
      const user = await directory.findUserByEmail(orgId, email.trim());
      if (!user || user.deactivatedAt) {
        throw new AppError('forbidden', `No active person with the email ${email} in this organization's directory`, [
          { path: 'email', problem: 'not in the directory' },
        ]);
      }
      return start(user, 'oidc');
    },

    /**
     * A session for the person who just set a password through a one-time link (an invitation or
     * a reset): the link proved the mailbox and the new password is theirs. A second factor is
     * still asked for when they have one.
     */
    async signInWithLink(userId: string, address: string | null): Promise<StartedSession> {
      const user = await directory.findUser(userId);
      if (!user || user.deactivatedAt) throw new AppError('not_found', 'This link is no longer valid');
      return start(user, 'password', address);
    },

    /**
     * The second step of sign-in: a TOTP code, or one of the person's recovery codes, for a
     * session still waiting for one. Wrong codes count with wrong passwords, per (account,
     * address): a right password clears nothing.
     */
    async verifyTotp(sessionId: string, code: string, address: string = NO_ADDRESS): Promise<void> {
      const { session, user } = await requireSession(sessionId);
      if (!user.totpSecret) throw new AppError('conflict', 'This account has no authenticator set up', [{ path: 'code', problem: 'no TOTP enrolled' }]);
      const secret = totpBox.open(user.totpSecret, user.id);
      const email = user.email.toLowerCase();
      const attempt = await throttle.admit(email, address);
      const byRecovery = !/^\d{6}$/.test(code.trim());
      const passed = byRecovery ? await recovery.use(user.id, code) : await claimCode(user, secret, code.trim());
      if (!passed) {
        failed(attempt, [user.orgId], 'totp');
        throw new AppError('unauthorized', 'The code is wrong, expired or already used', [{ path: 'code', problem: 'wrong, expired or already used' }]);
      }
      await throttle.completed(attempt);
      const at = now();
      await store.update(session.id, { totpVerified: true, lastSeenAt: at, expiresAt: new Date(at.getTime() + SESSION_RULES.idleMs) });
      await audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.id,
        action: byRecovery ? 'auth.recovery_code_used' : 'auth.totp_verified',
        ...(byRecovery ? { details: { left: await recovery.left(user.id) } } : {}),
      });
    },

    /** Makes a new secret for this session to confirm; replaces any earlier unconfirmed one. */
    async beginTotpEnrollment(sessionId: string): Promise<{ secret: string; uri: string }> {
      const { session, user } = await requireSession(sessionId);
      if (user.totpSecret && !session.totpVerified) throw new AppError('forbidden', 'Verify your current code before replacing it');
      const secret = newTotpSecret();
      await store.update(session.id, { pendingTotpSecret: totpBox.seal(secret, session.id) });
      return { secret, uri: totpUri(secret, user.email) };
    },

    /** The secret being set up in this session, if any: a wrong code keeps it, so the scanned one still works. */
    async pendingTotpEnrollment(sessionId: string): Promise<{ secret: string; uri: string } | undefined> {
      const { session, user } = await requireSession(sessionId);
      if (!session.pendingTotpSecret) return undefined;
      const secret = totpBox.open(session.pendingTotpSecret, session.id);
      return { secret, uri: totpUri(secret, user.email) };
    },

    /** Confirms the new secret with a code from it; returns the new recovery codes, shown once. */
    async confirmTotpEnrollment(sessionId: string, code: string): Promise<{ recoveryCodes: string[] }> {
      const { session, user } = await requireSession(sessionId);
      const secret = session.pendingTotpSecret ? totpBox.open(session.pendingTotpSecret, session.id) : undefined;
      if (!secret) throw new AppError('conflict', 'Start enrolment first', [{ path: 'code', problem: 'no enrolment in progress' }]);
      // The step is checked against the new secret and then recorded, so this code cannot sign in again.
      const step = matchTotpStep(secret, code.trim(), now().getTime());
      if (step === null) throw new AppError('validation_failed', 'The code does not match the new secret', [{ path: 'code', problem: 'does not match' }]);
      await directory.setTotpSecret(user.id, totpBox.seal(secret, user.id));
      await directory.claimTotpStep(user.id, step);
      const at = now();
      await store.update(session.id, { pendingTotpSecret: null, totpVerified: true, lastSeenAt: at, expiresAt: new Date(at.getTime() + SESSION_RULES.idleMs) });
      const recoveryCodes = await recovery.replace(user.id);
      await audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.id, action: 'auth.totp_enrolled' });
      return { recoveryCodes };
    },

    /** New recovery codes for a fully signed-in person with an authenticator; every earlier code stops working. */
    async regenerateRecoveryCodes(sessionId: string): Promise<string[]> {
      const { session, user } = await requireSession(sessionId);
      if (!user.totpSecret || !session.totpVerified) throw new AppError('conflict', 'Set up an authenticator first', [{ path: 'totp', problem: 'not set up' }]);
      const codes = await recovery.replace(user.id);
      await audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.id, action: 'auth.recovery_codes_replaced' });
      return codes;
    },

    recoveryCodesLeft: (userId: string) => recovery.left(userId),

    /** The session behind a cookie's token, sliding its expiry; undefined when there is none. */
    async resolve(token: string | undefined): Promise<ResolvedSession | undefined> {
      if (!token || token.length > 100) return undefined;
      const session = await store.find(sessionIdOf(token));
      if (!session) return undefined;
      const at = now();
      const user = await directory.findUser(session.userId);
      if (session.expiresAt <= at || !user || user.deactivatedAt || user.orgId !== session.orgId) {
        await store.delete(session.id);
        return undefined;
      }
      const stage = stageOf(user, session);
      if (stage === 'active' && at.getTime() - session.lastSeenAt.getTime() > SESSION_RULES.touchEveryMs) {
        const cap = session.createdAt.getTime() + SESSION_RULES.absoluteMs;
        const expiresAt = new Date(Math.min(cap, at.getTime() + SESSION_RULES.idleMs));
        await store.update(session.id, { lastSeenAt: at, expiresAt });
        session.lastSeenAt = at;
        session.expiresAt = expiresAt;
      }
      const managedTeamIds = user.role === 'manager' ? await directory.managedTeamIds(user.id) : [];
      return {
        session,
        stage,
        hasTotp: user.totpSecret !== null,
        user: {
          userId: user.id,
          orgId: user.orgId,
          email: user.email,
          name: user.name,
          role: user.role,
          managedTeamIds,
          teamId: user.teamId,
          sessionId: session.id,
          worksCouncil: user.worksCouncil,
        },
      };
    },

    async signOut(sessionId: string): Promise<void> {
      const session = await store.find(sessionId);
      if (!session) return;
      await store.delete(sessionId);
      await audit.record({ orgId: session.orgId, actorType: 'user', actorId: session.userId, action: 'auth.sign_out' });
    },

    /** Ends every session of a person (after a password reset), and lifts any slowdown of their account. */
    async signOutEverywhere(userId: string): Promise<number> {
      const user = await directory.findUser(userId);
      if (user) await throttle.lift(user.email.toLowerCase());
      return store.deleteForUser(userId);
    },

    /** Called with each alert for the holder of an account (the notification module sends it). */
    onAlert(listener: (alert: SignInAlert) => Promise<void>) {
      alertListeners.push(listener);
    },

    /** Waits for the alerts already under way (before the database closes). */
    async settle(): Promise<void> {
      await Promise.all([...alerting]);
    },

    /** Sets a person's TOTP seed (sealed); enrolment confirms through this, seeds and tests call it. */
    async storeTotpSecret(userId: string, secret: string): Promise<void> {
      await directory.setTotpSecret(userId, totpBox.seal(secret, userId));
    },

    /** Drops expired sessions and finished failure counts; both would otherwise only grow. */
    async purgeExpired(): Promise<{ sessions: number; failures: number }> {
      const sessions = await store.deleteExpired(now());
      const failures = await throttle.purge();
      return { sessions, failures };
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
