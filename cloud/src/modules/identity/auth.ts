import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { AuditService } from '../audit';
import type { DirectoryService } from '../directory';
import type { UserRow } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import type { SecretBox } from '../../platform/secret-box';
import type { SessionRow, SessionStore } from './session-store';
import { matchTotpStep, newTotpSecret, totpUri } from './totp';

/** Sliding idle timeout, hard cap, and how long a half-signed-in session may wait for TOTP. */
export const SESSION_RULES = {
  idleMs: 12 * 3600_000,
  absoluteMs: 7 * 24 * 3600_000,
  pendingMs: 10 * 60_000,
  /** Expiry is pushed forward at most once a minute, not on every request. */
  touchEveryMs: 60_000,
} as const;

/** 5 failures within 15 minutes lock the account for 15 minutes. */
export const LOCKOUT_RULE = { windowMs: 15 * 60_000, max: 5, lockMs: 15 * 60_000 } as const;

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

export const sessionIdOf = (token: string) => createHash('sha256').update(token).digest('hex');

function stageOf(user: UserRow, session: Pick<SessionRow, 'totpVerified'>): SessionStage {
  if (user.totpSecret) return session.totpVerified ? 'active' : 'needs_totp';
  // Admins hold the keys to the whole org: no admin session without a second factor.
  return user.role === 'admin' ? 'needs_enrollment' : 'active';
}

export function createAuthService(deps: {
  directory: DirectoryService;
  store: SessionStore;
  audit: AuditService;
  /** Seals TOTP seeds at rest: a database dump alone must not yield second factors. */
  totpBox: SecretBox;
  now?: () => Date;
}) {
  const { directory, store, audit, totpBox } = deps;
  const now = deps.now ?? (() => new Date());
  // Verifying against a real hash for unknown emails keeps the timing the same for both.
  let decoyHash: Promise<string> | undefined;
  const decoy = () => (decoyHash ??= hash(randomBytes(16).toString('hex')));

  async function refuseIfLocked(email: string) {
    const until = await store.lockedUntil(email);
    const at = now();
    if (until && until > at) throw lockedError(until, at);
  }
  async function countFailure(email: string, orgId: string | undefined, reason: string) {
    const at = now();
    const lockedUntil = await store.recordFailure(email, at, LOCKOUT_RULE);
    if (orgId)
      await audit.record({
        orgId,
        actorType: 'system',
        actorId: 'gateway',
        action: 'auth.sign_in_failed',
        details: { email, reason, locked: lockedUntil !== null },
      });
    if (lockedUntil) throw lockedError(lockedUntil, at);
  }

  async function start(user: UserRow, method: SessionRow['method']): Promise<StartedSession> {
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
    async signInWithPassword(input: { email: string; password: string }): Promise<StartedSession> {
      const email = input.email.trim().toLowerCase();
      await refuseIfLocked(email);
      const user = await directory.findUserByEmail(email);
      const ok =
        user?.passwordHash && !user.deactivatedAt ? await verify(user.passwordHash, input.password) : (await verify(await decoy(), input.password), false);
      if (!ok || !user) {
        await countFailure(email, user?.orgId, 'password');
        throw new AppError('unauthorized', 'Email or password is wrong', [{ path: 'password', problem: 'email or password is wrong' }]);
      }
      await store.clearFailures(email);
      return start(user, 'password');
    },

    /** The identity provider proved the email; the directory decides who that is. */
    async signInWithVerifiedEmail(email: string, orgId: string): Promise<StartedSession> {
      const user = await directory.findUserByEmail(email.trim());
      if (!user || user.orgId !== orgId || user.deactivatedAt) {
        throw new AppError('forbidden', `No active person with the email ${email} in this organization's directory`, [
          { path: 'email', problem: 'not in the directory' },
        ]);
      }
      return start(user, 'oidc');
    },

    /** The second step of sign-in: a TOTP code for a session still waiting for one. */
    async verifyTotp(sessionId: string, code: string): Promise<void> {
      const { session, user } = await requireSession(sessionId);
      if (!user.totpSecret) throw new AppError('conflict', 'This account has no authenticator set up', [{ path: 'code', problem: 'no TOTP enrolled' }]);
      const secret = totpBox.open(user.totpSecret, user.id);
      const email = user.email.toLowerCase();
      await refuseIfLocked(email);
      if (!(await claimCode(user, secret, code.trim()))) {
        await countFailure(email, user.orgId, 'totp');
        throw new AppError('unauthorized', 'The code is wrong, expired or already used', [{ path: 'code', problem: 'wrong, expired or already used' }]);
      }
      await store.clearFailures(email);
      const at = now();
      await store.update(session.id, { totpVerified: true, lastSeenAt: at, expiresAt: new Date(at.getTime() + SESSION_RULES.idleMs) });
      await audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.id, action: 'auth.totp_verified' });
    },

    /** Makes a new secret for this session to confirm; replaces any earlier unconfirmed one. */
    async beginTotpEnrollment(sessionId: string): Promise<{ secret: string; uri: string }> {
      const { session, user } = await requireSession(sessionId);
      if (user.totpSecret && !session.totpVerified) throw new AppError('forbidden', 'Verify your current code before replacing it');
      const secret = newTotpSecret();
      await store.update(session.id, { pendingTotpSecret: totpBox.seal(secret, session.id) });
      return { secret, uri: totpUri(secret, user.email) };
    },

    async confirmTotpEnrollment(sessionId: string, code: string): Promise<void> {
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
      await audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.id, action: 'auth.totp_enrolled' });
    },

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
        },
      };
    },

    async signOut(sessionId: string): Promise<void> {
      const session = await store.find(sessionId);
      if (!session) return;
      await store.delete(sessionId);
      await audit.record({ orgId: session.orgId, actorType: 'user', actorId: session.userId, action: 'auth.sign_out' });
    },

    /** Ends every session of a person (after a password reset), and lifts a lockout of their address. */
    async signOutEverywhere(userId: string): Promise<number> {
      const user = await directory.findUser(userId);
      if (user) await store.clearFailures(user.email);
      return store.deleteForUser(userId);
    },

    /** Sets a person's TOTP seed (sealed); enrolment confirms through this, seeds and tests call it. */
    async storeTotpSecret(userId: string, secret: string): Promise<void> {
      await directory.setTotpSecret(userId, totpBox.seal(secret, userId));
    },

    /** Drops expired sessions and finished failure counts; both tables would otherwise only grow. */
    async purgeExpired(): Promise<{ sessions: number; failures: number }> {
      const at = now();
      const sessions = await store.deleteExpired(at);
      const failures = await store.deleteStaleFailures(new Date(at.getTime() - LOCKOUT_RULE.windowMs), at);
      return { sessions, failures };
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;

function lockedError(until: Date, at: Date): AppError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - at.getTime()) / 1000));
  return new AppError('rate_limited', `Too many failed sign-ins; this account is locked for ${Math.ceil(seconds / 60)} min`, undefined, {
    'Retry-After': String(seconds),
  });
}
