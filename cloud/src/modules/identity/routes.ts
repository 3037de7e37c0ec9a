import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { safeText } from '@icarus/shared';
import type { AuditService } from '../audit';
import type { AppEnv } from '../../platform/env';
import type { Access } from './access';
import { OrganizationChoiceNeeded, type AuthService } from './auth';
import { readJson } from '../../platform/http/body';
import { clearSessionCookie, setSessionCookie } from './cookies';

export const SignInRequest = z.strictObject({
  email: z.email('not a valid email address').max(320),
  password: safeText(z.string().min(1, 'is required').max(1024)),
  /** Only when the answer asked to choose: the email and password open accounts in several orgs. */
  orgId: z.uuid('not an organization id').optional(),
});
/** A checkpoint the verifier kept outside (compliance report, audit export): its compact JWS. */
export const VerifyRequest = z.strictObject({ checkpoint: z.string().min(1, 'is required').max(4096) });
export const CodeRequest = z.strictObject({ code: z.string().regex(/^\s*\d{6}\s*$/, 'must be the 6 digits your authenticator shows') });

const MAX_AUTH_BODY = 8 * 1024;

export interface GatewayRouteDeps {
  auth: AuthService;
  access: Access;
  audit: AuditService;
  /** Per-address limit on the routes that take passwords and codes. */
  signInLimit: MiddlewareHandler;
  secure: (c: Parameters<MiddlewareHandler>[0]) => boolean;
  /** The client address (behind a trusted proxy, the forwarded one): sign-in attempts are counted per account and address. */
  addressOf: (c: Parameters<MiddlewareHandler>[0]) => string;
}

/** The JSON side of sign-in, the second factor, the signed-in user, and audit verification. */
export function gatewayApiRoutes(deps: GatewayRouteDeps) {
  const { auth, access, audit } = deps;
  const routes = new Hono<AppEnv>()
    .post('/api/session', deps.signInLimit, async (c) => {
      const body = await readJson(c, SignInRequest, MAX_AUTH_BODY);
      let started;
      try {
        started = await auth.signInWithPassword({ ...body, address: deps.addressOf(c) });
      } catch (error) {
        // No session yet: the caller sends the same request again with one of these orgIds.
        if (error instanceof OrganizationChoiceNeeded) return c.json({ stage: 'choose_organization' as const, organizations: error.organizations }, 200);
        throw error;
      }
      setSessionCookie(c, started.token, deps.secure(c));
      return c.json({ stage: started.stage, csrfToken: started.session.csrfSecret }, 201);
    })
    .post('/api/session/totp', deps.signInLimit, async (c) => {
      const { code } = await readJson(c, CodeRequest, MAX_AUTH_BODY);
      await auth.verifyTotp(c.get('user').sessionId, code, deps.addressOf(c));
      return c.json({ stage: 'active' as const });
    })
    .delete('/api/session', async (c) => {
      await auth.signOut(c.get('user').sessionId);
      clearSessionCookie(c, deps.secure(c));
      return c.body(null, 204);
    })
    .get('/api/me', async (c) => {
      const found = await access.sessionOf(c);
      const user = c.get('user');
      // The CSRF token is readable here so scripts on our own pages can send X-CSRF-Token.
      return c.json({ user, stage: found?.stage ?? 'active', hasTotp: found?.hasTotp ?? false, csrfToken: found?.session.csrfSecret ?? '' });
    })
    .post('/api/account/totp', async (c) => c.json(await auth.beginTotpEnrollment(c.get('user').sessionId), 201))
    .post('/api/account/totp/confirm', async (c) => {
      const { code } = await readJson(c, CodeRequest, MAX_AUTH_BODY);
      const { recoveryCodes } = await auth.confirmTotpEnrollment(c.get('user').sessionId, code);
      return c.json({ enrolled: true as const, recoveryCodes });
    })
    .get('/api/audit/verify', access.requireUser('admin', 'auditor'), async (c) => c.json(await verified(c.get('user'), undefined)))
    .post('/api/audit/verify', access.requireUser('admin', 'auditor'), async (c) => {
      const { checkpoint } = await readJson(c, VerifyRequest, MAX_AUTH_BODY);
      return c.json(await verified(c.get('user'), checkpoint));
    });

  /** Verification, against the newest stored checkpoint and the one supplied; the check itself is audited. */
  async function verified(user: { orgId: string; userId: string }, supplied: string | undefined) {
    const result = await audit.verify(user.orgId, { supplied });
    await audit.record({
      orgId: user.orgId,
      actorType: 'user',
      actorId: user.userId,
      action: 'audit.verify',
      details: {
        ok: result.ok,
        checked: result.checked,
        problems: result.problems.map((p) => p.kind),
        checkpoints: result.checkpoints.map((k) => ({ source: k.source, seq: k.seq })),
      },
    });
    return result;
  }
  return routes;
}
