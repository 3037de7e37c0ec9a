import type { DeviceIdentity, EnrolledDevice } from '../../platform/env';
import type { Keyring, SymmetricKey } from '../../platform/keyring';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, errors as joseErrors, importJWK, jwtVerify, SignJWT } from 'jose';
import { isUsableEd25519Key } from './ed25519-key';
import { Directive, MAX_ASSERTION_LIFETIME_S, type AgentStatus, type EnrollRequest, type EnrollResponse, type TokenResponse } from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import { AppError } from '../../platform/errors';
import type { AuditService } from '../audit';
import type { DirectoryService } from '../directory';
import type { BindingService } from './binding';
import { createFleetSearch } from './fleet-search';
import type { DeviceRow, DeviceStore } from './store';

export type { DeviceIdentity, EnrolledDevice };

/** Device health is kept to this resolution, so a catching-up device costs no write per batch. */
export const SYNC_RECORD_INTERVAL_MS = 30_000;
/** How far a device clock may run ahead when it stamps an assertion. */
const ASSERTION_CLOCK_SKEW_S = 30;

interface Deps {
  store: DeviceStore;
  audit: AuditService;
  directory: DirectoryService;
  /** Binds a device enrolled with a per-user token to that person. */
  bindings: Pick<BindingService, 'bind'>;
  tokenKeys: Keyring<SymmetricKey>;
  accessTokenTtlSeconds: number;
  now?: () => Date;
}

const TOKEN_PREFIX = 'icn_enr_';
const ACCESS_TOKEN_ISSUER = 'icarus-nova';
/** Proven access tokens remembered at most (a token lives 15 minutes: a fleet several times this size re-proves some). */
const MAX_PROVEN_TOKENS = 100_000;

export function hashEnrollmentToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function createDeviceService(deps: Deps) {
  const { store, audit, directory } = deps;
  const now = deps.now ?? (() => new Date());
  const fleet = createFleetSearch(store, now);
  /** Access tokens whose signature was checked, with the device they name and when they expire. */
  const provenTokens = new Map<string, { deviceId: string; expiresAtMs: number }>();

  return {
    /** Makes a token; the plain value is returned once and only its hash is kept. */
    async createEnrollmentToken(input: {
      orgId: string;
      label: string;
      validDays: number;
      maxUses: number;
      teamId?: string | null;
      createdBy?: string | null;
      /** A per-user token: every device enrolled with it is bound to this person (IT deploys it by MDM). */
      userId?: string | null;
    }): Promise<{ id: string; token: string; expiresAt: Date }> {
      if (input.userId) {
        const user = await directory.findUser(input.userId).catch(() => undefined);
        if (!user || user.orgId !== input.orgId || user.deactivatedAt) {
          throw new AppError('validation_failed', 'Invalid body: userId: not an active person of this organisation', [
            { path: 'userId', problem: 'not an active person of this organisation' },
          ]);
        }
      }
      const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
      const id = uuidv7();
      const expiresAt = new Date(now().getTime() + input.validDays * 86_400_000);
      await store.insertEnrollmentToken({
        id,
        orgId: input.orgId,
        teamId: input.teamId ?? null,
        label: input.label,
        tokenHash: hashEnrollmentToken(token),
        expiresAt,
        maxUses: input.maxUses,
        createdBy: input.createdBy ?? null,
        userId: input.userId ?? null,
      });
      await audit.record({
        orgId: input.orgId,
        actorType: input.createdBy ? 'user' : 'system',
        actorId: input.createdBy ?? 'system',
        action: 'enrollment_token.created',
        subjectUserIds: input.userId ? [input.userId] : [],
        details: {
          tokenId: id,
          label: input.label,
          maxUses: input.maxUses,
          teamId: input.teamId ?? null,
          userId: input.userId ?? null,
          expiresAt: expiresAt.toISOString(),
        },
      });
      return { id, token, expiresAt };
    },

    /**
     * Enrolls a device with a token. `enrolledAt` is when it came into use: now, unless a trusted
     * caller that writes history says otherwise (the demo seed, whose devices have 90 days of
     * spans); no route passes it.
     */
    async enroll(request: EnrollRequest, enrolledAt: Date = now()): Promise<EnrollResponse> {
      // Checked before the token is consumed: a refused key must not spend one of its uses.
      if (!isUsableEd25519Key(request.publicKeyJwk.x)) {
        throw new AppError('validation_failed', 'Invalid body: publicKeyJwk: not a usable Ed25519 public key', [
          { path: 'publicKeyJwk', problem: 'not a usable Ed25519 public key (not on the curve, or of small order)' },
        ]);
      }
      const tokenHash = hashEnrollmentToken(request.enrollmentToken);
      const token = await store.consumeEnrollmentToken(tokenHash, now());
      if (!token) {
        const known = await store.findEnrollmentToken(tokenHash);
        const why = !known ? 'is not known' : known.revokedAt ? 'was revoked' : known.expiresAt <= now() ? 'has expired' : 'has reached its use limit';
        throw new AppError('unauthorized', `Enrollment token ${why}`, [{ path: 'enrollmentToken', problem: why }]);
      }
      // The fleet token proves only "a device of this org": the OS account is a hint, never
      // who the device speaks for. Only a per-user token binds at enrollment.
      const deviceId = uuidv7();
      await store.insertDevice({
        id: deviceId,
        orgId: token.orgId,
        userId: null,
        enrollmentTokenId: token.id,
        name: request.deviceName,
        platform: request.platform,
        osUser: request.osUser,
        // Only the key itself: how the sender's library labelled it (alg, ext, key_ops) is not kept.
        publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: request.publicKeyJwk.x },
        agentVersion: request.agentVersion ?? null,
        enrolledAt,
      });
      await audit.record({
        orgId: token.orgId,
        actorType: 'device',
        actorId: deviceId,
        action: 'device.enrolled',
        details: { tokenId: token.id, deviceName: request.deviceName, platform: request.platform, osUser: request.osUser },
      });
      if (token.userId) {
        const actor = token.createdBy ? { type: 'user' as const, id: token.createdBy } : { type: 'device' as const, id: deviceId };
        await deps.bindings.bind(token.orgId, deviceId, token.userId, 'enrollment_token', actor);
      }
      return { deviceId, orgId: token.orgId };
    },

    /**
     * Exchanges a device-signed assertion (RFC 7523 style) for a short-lived access token.
     * The assertion is refused if unsigned by the enrolled key, aimed at another audience,
     * long-lived, or seen before.
     */
    async issueAccessToken(assertion: string, audience: string): Promise<TokenResponse> {
      let claimedDevice: string | undefined;
      try {
        claimedDevice = decodeJwt(assertion).iss;
      } catch {
        throw badAssertion('assertion is not a JWT');
      }
      const device = claimedDevice ? await store.findDevice(claimedDevice).catch(() => undefined) : undefined;
      if (!device) throw badAssertion('unknown device');
      if (device.revokedAt) throw revoked();
      const key = await importJWK(device.publicKeyJwk, 'EdDSA');
      let payload;
      try {
        ({ payload } = await jwtVerify(assertion, key, {
          algorithms: ['EdDSA'],
          issuer: device.id,
          subject: device.id,
          audience,
          requiredClaims: ['exp', 'jti', 'iat'],
          clockTolerance: 30,
          currentDate: now(),
        }));
      } catch (error) {
        const reason = error instanceof joseErrors.JOSEError ? error.message : 'invalid assertion';
        throw badAssertion(reason);
      }
      const exp = payload.exp ?? 0;
      const iat = payload.iat ?? 0;
      if (exp - iat > MAX_ASSERTION_LIFETIME_S) throw badAssertion(`assertion lives longer than ${MAX_ASSERTION_LIFETIME_S} s`);
      // jose checks only that exp has not passed; an assertion minted for later use would
      // otherwise be good long after the key was taken. Both ends are bounded by now.
      const nowS = Math.floor(now().getTime() / 1000);
      if (iat > nowS + ASSERTION_CLOCK_SKEW_S) throw badAssertion('assertion is issued in the future (iat)');
      if (exp > nowS + MAX_ASSERTION_LIFETIME_S + ASSERTION_CLOCK_SKEW_S) throw badAssertion('assertion expires too far in the future (exp)');
      const jti = payload.jti ?? '';
      if (!(await store.rememberAssertion(`${device.id}:${jti}`, device.id, new Date((exp + 60) * 1000)))) {
        throw badAssertion('assertion was already used (replay)');
      }
      const accessToken = await new SignJWT({ org: device.orgId, typ: 'device' })
        .setProtectedHeader({ alg: 'HS256', kid: deps.tokenKeys.newest.keyId })
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setSubject(device.id)
        .setIssuedAt(Math.floor(now().getTime() / 1000))
        .setExpirationTime(Math.floor(now().getTime() / 1000) + deps.accessTokenTtlSeconds)
        .sign(deps.tokenKeys.newest.key);
      await audit.record({
        orgId: device.orgId,
        actorType: 'device',
        actorId: device.id,
        action: 'device.token_issued',
        details: { expiresIn: deps.accessTokenTtlSeconds },
      });
      return { accessToken, tokenType: 'Bearer', expiresIn: deps.accessTokenTtlSeconds };
    },

    /**
     * Checks a bearer token's signature and expiry only (no database): the device it names. A
     * device sends one token for its whole lifetime, so a token once proven is remembered (the
     * whole string, signature included) until it expires: each later request costs a lookup
     * and a clock check, not an HMAC.
     */
    async verifyAccessToken(bearer: string | undefined): Promise<string> {
      if (!bearer) throw unauthorized('missing bearer token');
      // The key the token names; a token without `kid` was issued before keys had ids: the first key.
      const keyFor = (header: { kid?: string | undefined }) => {
        const key = header.kid === undefined ? deps.tokenKeys.first : deps.tokenKeys.byId(header.kid);
        if (!key) throw new Error('access token names a key not in the ring');
        return key.key;
      };
      const known = provenTokens.get(bearer);
      if (known) {
        if (now().getTime() >= known.expiresAtMs) {
          provenTokens.delete(bearer);
          throw unauthorized('access token has expired');
        }
        return known.deviceId;
      }
      let deviceId: string | undefined;
      let expiresAtMs = 0;
      try {
        const { payload } = await jwtVerify(bearer, keyFor, {
          algorithms: ['HS256'],
          issuer: ACCESS_TOKEN_ISSUER,
          currentDate: now(),
        });
        if (payload.typ === 'device') deviceId = payload.sub;
        expiresAtMs = (payload.exp ?? 0) * 1000;
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw unauthorized('access token has expired');
        throw unauthorized('access token is invalid');
      }
      if (!deviceId) throw unauthorized('access token is not a device token');
      // Only a token that expires is remembered (every token this service issues does).
      if (expiresAtMs > 0) {
        if (provenTokens.size >= MAX_PROVEN_TOKENS) {
          const oldest = provenTokens.keys().next().value;
          if (oldest !== undefined) provenTokens.delete(oldest);
        }
        provenTokens.set(bearer, { deviceId, expiresAtMs });
      }
      return deviceId;
    },

    /** The device as enrolled now; revocation bites at once because this is read per request. */
    async requireActive(deviceId: string): Promise<EnrolledDevice> {
      const device = await store.findDevice(deviceId);
      if (!device) throw unauthorized('unknown device');
      if (device.revokedAt) throw revoked();
      return {
        deviceId: device.id,
        orgId: device.orgId,
        userId: device.userId,
        bindingId: device.bindingId,
        osUser: device.osUser,
        lastSeenAt: device.lastSeenAt,
        enrolledAt: device.enrolledAt,
      };
    },

    async authenticate(bearer: string | undefined): Promise<EnrolledDevice> {
      return this.requireActive(await this.verifyAccessToken(bearer));
    },

    async findDevice(deviceId: string): Promise<DeviceRow | undefined> {
      return store.findDevice(deviceId);
    },

    /** An org's devices with their last sync and agent status (device health report). */
    listDevices: (orgId: string) => store.listDevices(orgId),

    /** The active devices bound to a person now. */
    devicesOfUser: (orgId: string, userId: string) => store.devicesOfUser(orgId, userId),

    /** One page of the org's fleet, searched, filtered and sorted by the database, and the number of matches. */
    searchFleet: fleet.search,

    /** Devices per agent version, silent, dropping spans, failing capture, unbound. */
    fleetSummary: fleet.summary,

    async recordSync(device: DeviceIdentity, status: AgentStatus | undefined) {
      const at = now();
      const last = device.lastSeenAt?.getTime();
      if (last !== undefined && at.getTime() - last < SYNC_RECORD_INTERVAL_MS) return;
      await store.recordSync(device.deviceId, at, status);
    },

    async queueDirective(deviceId: string, directive: Directive) {
      await store.queueDirective(uuidv7(), deviceId, directive);
    },

    hasPendingDirectives: (deviceId: string) => store.hasPendingDirectives(deviceId),

    /** Directives waiting for this device, each delivered once. */
    async takeDirectives(deviceId: string): Promise<Directive[]> {
      const raw = await store.takeDirectives(deviceId, now());
      return raw.flatMap((d) => {
        const parsed = Directive.safeParse(d);
        return parsed.success ? [parsed.data] : [];
      });
    },

    async revoke(deviceId: string, orgId: string, actorUserId: string): Promise<void> {
      if (!(await store.revokeDevice(deviceId, orgId, now()))) {
        throw new AppError('not_found', 'No such active device in this org', [{ path: 'deviceId', problem: 'not found' }]);
      }
      const device = await store.findDevice(deviceId);
      await audit.record({
        orgId,
        actorType: 'user',
        actorId: actorUserId,
        action: 'device.revoked',
        subjectUserIds: device?.userId ? [device.userId] : [],
        details: { deviceId },
      });
    },

    /** An org's enrollment tokens, newest first (hashes only; the token itself was shown once). */
    listEnrollmentTokens: (orgId: string) => store.listEnrollmentTokens(orgId),

    async revokeEnrollmentToken(tokenId: string, orgId: string, actorUserId: string): Promise<void> {
      if (!(await store.revokeEnrollmentToken(tokenId, orgId, now()))) {
        throw new AppError('not_found', 'No such live enrollment token in this org', [{ path: 'tokenId', problem: 'not found' }]);
      }
      await audit.record({ orgId, actorType: 'user', actorId: actorUserId, action: 'enrollment_token.revoked', details: { tokenId } });
    },

    async forgetExpiredAssertions() {
      await store.forgetExpiredAssertions(now());
    },
  };
}
export type DeviceService = ReturnType<typeof createDeviceService>;

function unauthorized(problem: string): AppError {
  return new AppError('unauthorized', `Not authenticated: ${problem}`, [{ path: 'authorization', problem }]);
}

function revoked(): AppError {
  return new AppError('forbidden', 'This device has been revoked', [{ path: 'device', problem: 'revoked' }]);
}

function badAssertion(problem: string): AppError {
  return new AppError('unauthorized', `Assertion refused: ${problem}`, [{ path: 'assertion', problem }]);
}
