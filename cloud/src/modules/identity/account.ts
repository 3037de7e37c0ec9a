import { createHash, randomBytes } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import type { AuditService } from '../audit';
import type { DirectoryService, UserRow } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import type { RateLimitStore } from '../../platform/http/rate-limit';
import type { AccountStore, AccountTokenPurpose } from './account-store';
import type { AuthService, StartedSession } from './auth';
import type { SessionStore } from './session-store';
import type { SignInThrottle } from './throttle';

/** The account lifecycle's numbers, in one place (docs/SECURITY.md explains them). */
export const ACCOUNT_RULES = {
  invitationMs: 7 * 86_400_000,
  resetMs: 30 * 60_000,
  /** Reset mails per email, whoever asks: three at once, then one every 20 minutes. */
  resetMails: { ratePerSecond: 1 / 1200, burst: 3 },
  passwordMin: 12,
  passwordMax: 1024,
  /** Used and expired links are dropped this long after: they open nothing, and the audit log keeps what happened. */
  keepSpentMs: 86_400_000,
} as const;

/** A one-time link to mail: the notification module renders and sends it (email only, never a webhook). */
export interface AccountMail {
  kind: 'invitation' | 'password_reset';
  orgId: string;
  userId: string;
  link: string;
  expiresAt: Date;
  /** Who invited (invitations). */
  invitedBy?: string;
}

export interface SessionView {
  id: string;
  current: boolean;
  method: 'password' | 'oidc';
  address: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

const tokenId = (token: string) => createHash('sha256').update(token).digest('hex');
const LINK_PATHS: Record<AccountTokenPurpose, string> = { invitation: '/sign-in/invitation/', password_reset: '/sign-in/reset/' };
const INVALID_LINK = 'This link is no longer valid: it was used, replaced by a newer one, or it expired. Ask for a new one.';

/** The rules a new password must meet, as field problems (empty: fine). */
export function passwordProblems(password: string, confirm: string | undefined): { path: string; problem: string }[] {
  const problems: { path: string; problem: string }[] = [];
  if ([...password].length < ACCOUNT_RULES.passwordMin)
    problems.push({ path: 'password', problem: `must be at least ${ACCOUNT_RULES.passwordMin} characters` });
  if (password.length > ACCOUNT_RULES.passwordMax) problems.push({ path: 'password', problem: `must be at most ${ACCOUNT_RULES.passwordMax} characters` });
  if (confirm !== undefined && confirm !== password) problems.push({ path: 'confirm', problem: 'does not match the new password' });
  return problems;
}

function refuseWeak(password: string, confirm: string | undefined) {
  const problems = passwordProblems(password, confirm);
  const [first] = problems;
  if (first) throw new AppError('validation_failed', `Invalid form: ${first.path}: ${first.problem}`, problems);
}

/**
 * Invitations, password set, change and reset, and the sessions list. Links are random 256-bit
 * tokens; only their sha256 is stored, each is used once and expires. A reset request answers
 * the same whether or not anyone has the email: the look-up and the mail run beside the answer.
 */
export function createAccountService(deps: {
  directory: DirectoryService;
  store: AccountStore;
  sessions: SessionStore;
  auth: AuthService;
  throttle: SignInThrottle;
  audit: AuditService;
  /** Shared with the sign-in route limit (PostgreSQL), keyed per email here. */
  limits: RateLimitStore;
  publicUrl: () => string;
  /** False without SMTP: no link can reach anyone, so invitations are refused, saying why. */
  mailEnabled: boolean;
  /** The org whose people sign in with single sign-on only: they never get a password. */
  ssoOrgId: string | undefined;
  now?: () => Date;
  onBackgroundError?: (error: unknown) => void;
}) {
  const { directory, store, sessions, auth, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const mailListeners: ((mail: AccountMail) => Promise<void>)[] = [];
  const background = new Set<Promise<void>>();

  // The single sign-on org's people, and anyone the identity provider provisioned, never get a password here.
  const usesSso = (user: Pick<UserRow, 'orgId'> & { ssoOnly?: boolean }) =>
    user.ssoOnly === true || (deps.ssoOrgId !== undefined && user.orgId === deps.ssoOrgId);

  async function issue(user: UserRow, purpose: AccountTokenPurpose, createdBy: SignedInUser | null): Promise<AccountMail> {
    const token = randomBytes(32).toString('base64url');
    const at = now();
    const expiresAt = new Date(at.getTime() + (purpose === 'invitation' ? ACCOUNT_RULES.invitationMs : ACCOUNT_RULES.resetMs));
    await store.issue({ id: tokenId(token), purpose, userId: user.id, orgId: user.orgId, createdBy: createdBy?.userId ?? null, createdAt: at, expiresAt });
    const mail: AccountMail = { kind: purpose, orgId: user.orgId, userId: user.id, link: `${deps.publicUrl()}${LINK_PATHS[purpose]}${token}`, expiresAt };
    if (createdBy) mail.invitedBy = createdBy.name;
    for (const listener of mailListeners) await listener(mail);
    return mail;
  }

  /** The link's row and person when it can still be used; one answer for every way it cannot. */
  async function openLink(token: string, purpose: AccountTokenPurpose) {
    const row = token.length <= 100 ? await store.find(tokenId(token)) : undefined;
    const user = row ? await directory.findUser(row.userId) : undefined;
    if (!row || !user || row.purpose !== purpose || row.usedAt || row.expiresAt <= now() || user.deactivatedAt || user.orgId !== row.orgId || usesSso(user)) {
      throw new AppError('not_found', INVALID_LINK, [{ path: 'token', problem: 'used, replaced or expired' }]);
    }
    return { row, user };
  }

  function inBackground(work: () => Promise<void>) {
    const running = work().catch((error: unknown) => deps.onBackgroundError?.(error));
    background.add(running);
    void running.finally(() => background.delete(running));
  }

  return {
    /** Called with every link to mail (the notification module sends it). */
    onMail(listener: (mail: AccountMail) => Promise<void>) {
      mailListeners.push(listener);
    },

    /**
     * Invites people of the admin's org to set a password: each gets a one-time link by mail,
     * valid 7 days, replacing any earlier invitation. People who already have a password, sign in
     * with single sign-on, or are deactivated are skipped, each with the reason.
     */
    async invite(admin: SignedInUser, userIds: readonly string[]) {
      if (!deps.mailEnabled) {
        throw new AppError('conflict', 'Invitations go by email, and no mail server is configured (SMTP_URL)', [
          { path: 'SMTP_URL', problem: 'not configured' },
        ]);
      }
      const invited: { userId: string; email: string; expiresAt: string }[] = [];
      const skipped: { userId: string; reason: string }[] = [];
      for (const userId of new Set(userIds)) {
        const user = await directory.findUser(userId);
        if (!user || user.orgId !== admin.orgId) skipped.push({ userId, reason: 'not in this organization' });
        else if (user.deactivatedAt) skipped.push({ userId, reason: 'deactivated' });
        else if (usesSso(user)) skipped.push({ userId, reason: 'signs in with single sign-on' });
        else if (user.passwordHash) skipped.push({ userId, reason: 'has a password already (they can reset it from the sign-in page)' });
        else {
          const mail = await issue(user, 'invitation', admin);
          invited.push({ userId, email: user.email, expiresAt: mail.expiresAt.toISOString() });
        }
      }
      if (invited.length > 0) {
        await audit.record({
          orgId: admin.orgId,
          actorType: 'user',
          actorId: admin.userId,
          action: 'account.invited',
          subjectUserIds: invited.map((i) => i.userId),
          details: { invited: invited.length, skipped: skipped.length },
        });
      }
      return { invited, skipped };
    },

    /** Everyone of the org who cannot sign in yet: no password, not on single sign-on, not invited (or the invitation expired). */
    async notYetInvited(orgId: string): Promise<{ id: string; name: string; email: string }[]> {
      if (deps.ssoOrgId === orgId) return [];
      const people = await directory.peopleWithoutPassword(orgId);
      const open = await store.openInvitations(
        people.map((p) => p.id),
        now(),
      );
      return people.filter((p) => !open.has(p.id));
    },

    /** What the set-password page shows for a link; throws when it can no longer be used. */
    async describeLink(token: string, purpose: AccountTokenPurpose): Promise<{ name: string; email: string; expiresAt: string }> {
      const { row, user } = await openLink(token, purpose);
      return { name: user.name, email: user.email, expiresAt: row.expiresAt.toISOString() };
    },

    /**
     * Sets the password a link was sent for, spends the link and signs the person in. A reset
     * also ends every other session and forgets the failed sign-ins of the account.
     */
    async setPasswordWithLink(input: {
      token: string;
      purpose: AccountTokenPurpose;
      password: string;
      confirm: string;
      address: string;
    }): Promise<StartedSession> {
      const { row, user } = await openLink(input.token, input.purpose);
      refuseWeak(input.password, input.confirm);
      if (!(await store.spend(row.id, now()))) throw new AppError('not_found', INVALID_LINK, [{ path: 'token', problem: 'used, replaced or expired' }]);
      await directory.setPassword(user.id, input.password);
      if (input.purpose === 'password_reset') await auth.signOutEverywhere(user.id);
      await audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.id,
        action: input.purpose === 'invitation' ? 'account.invitation_accepted' : 'account.password_reset',
        details: { address: input.address },
      });
      return auth.signInWithLink(user.id, input.address);
    },

    /**
     * A reset link for whoever has this email, if anyone: the answer is the same either way and
     * comes at once; the look-up, the per-email limit and the mail run beside it.
     */
    requestReset(email: string, address: string): void {
      const typed = email.trim().toLowerCase();
      if (!typed.includes('@') || typed.length > 320) return;
      inBackground(async () => {
        const wait = await deps.limits.take(`reset-mail:${typed}`, ACCOUNT_RULES.resetMails, now().getTime());
        const people = (await directory.findUsersByEmail(typed)).filter((u) => !u.deactivatedAt && !usesSso(u));
        for (const user of people) {
          if (wait === 0) await issue(user, 'password_reset', null);
          await audit.record({
            orgId: user.orgId,
            actorType: 'system',
            actorId: 'gateway',
            action: 'account.password_reset_requested',
            subjectUserIds: [user.id],
            details: { address, sent: wait === 0 },
          });
        }
      });
    },

    /** A signed-in person's new password: the current one is checked (and counted like a sign-in), other sessions end. */
    async changePassword(user: SignedInUser, input: { current: string; password: string; confirm: string; address: string }): Promise<number> {
      const row = await directory.findUser(user.userId);
      if (!row?.passwordHash) {
        throw new AppError(
          'conflict',
          row && usesSso(row) ? 'You sign in with single sign-on; there is no password to change' : 'This account has no password yet',
          [{ path: 'current', problem: 'no password set' }],
        );
      }
      const attempt = await deps.throttle.admit(row.email.toLowerCase(), input.address);
      if (!(await verify(row.passwordHash, input.current))) {
        throw new AppError('unauthorized', 'The current password is wrong', [{ path: 'current', problem: 'wrong password' }]);
      }
      await deps.throttle.completed(attempt);
      refuseWeak(input.password, input.confirm);
      await directory.setPassword(row.id, input.password);
      const ended = await sessions.deleteOthers(row.id, user.sessionId);
      await audit.record({ orgId: row.orgId, actorType: 'user', actorId: row.id, action: 'account.password_changed', details: { sessionsEnded: ended } });
      return ended;
    },

    /** Whether the person has a password (SSO people and the not yet invited have none). */
    async hasPassword(userId: string): Promise<boolean> {
      return Boolean((await directory.findUser(userId))?.passwordHash);
    },

    /** Whether the person signs in through the identity provider only (the SSO org, or provisioned by it). */
    async usesSso(user: { userId: string; orgId: string }): Promise<boolean> {
      const row = await directory.findUser(user.userId);
      return usesSso({ orgId: user.orgId, ssoOnly: row?.ssoOnly ?? false });
    },

    /** The person's sessions, newest first, the one asking marked. */
    async sessions(user: SignedInUser): Promise<SessionView[]> {
      const at = now();
      return (await sessions.listForUser(user.userId))
        .filter((s) => s.expiresAt > at)
        .map((s) => ({
          id: s.id,
          current: s.id === user.sessionId,
          method: s.method,
          address: s.address,
          createdAt: s.createdAt.toISOString(),
          lastSeenAt: s.lastSeenAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
        }));
    },

    /** Ends one of the person's own sessions (another browser); 404 for anyone else's. */
    async endSession(user: SignedInUser, sessionId: string): Promise<void> {
      if (!(await sessions.deleteOwn(user.userId, sessionId)))
        throw new AppError('not_found', 'No such session of yours', [{ path: 'id', problem: 'not found' }]);
      await audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'auth.session_ended' });
    },

    /** Signs out everywhere: every session of the person, this one included. */
    async signOutEverywhere(user: SignedInUser): Promise<number> {
      const ended = await sessions.deleteForUser(user.userId);
      await audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'auth.signed_out_everywhere', details: { sessions: ended } });
      return ended;
    },

    async purge(): Promise<number> {
      return store.purge(new Date(now().getTime() - ACCOUNT_RULES.keepSpentMs));
    },

    /** Waits for reset requests still being worked on (tests, and before the database closes). */
    async settle(): Promise<void> {
      await Promise.all([...background]);
    },
  };
}
export type AccountService = ReturnType<typeof createAccountService>;
