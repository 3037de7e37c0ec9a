// Who a device speaks for. The fleet token proves only "a device of this org"; a device is
// bound to a person by proof from that person (a one-time pairing code from the web app) or
// from IT (an assignment, or a per-user enrollment token). The OS account name is never proof.
import { createHmac, randomInt } from 'node:crypto';
import { PAIRING_CODE_ALPHABET, PAIRING_CODE_LENGTH, type DeviceBinding } from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import { AppError } from '../../platform/errors';
import type { RateLimitStore, RateRule } from '../../platform/http/rate-limit';
import type { AuditService } from '../audit';
import type { DirectoryService } from '../directory';
import type { BindingMethod, DeviceStore } from './store';

export const PAIRING_CODE_TTL_MS = 10 * 60_000;

/**
 * Guessing budget. Codes carry ~39 bits (30^8); a device may try a few codes a minute and a
 * whole org about one a second, so even an org full of rogue devices expects no hit in years.
 */
export const PAIRING_LIMITS = {
  perDevice: { ratePerSecond: 1 / 30, burst: 5 },
  perOrg: { ratePerSecond: 1, burst: 60 },
  /** Making codes: a person needs one now and then, not a stream. */
  perPerson: { ratePerSecond: 1 / 60, burst: 5 },
} as const satisfies Record<string, RateRule>;

export interface Actor {
  /** `system`: the directory's own changes, such as a person deprovisioned by the identity provider. */
  type: 'user' | 'device' | 'system';
  id: string;
}

interface Deps {
  store: DeviceStore;
  audit: AuditService;
  directory: DirectoryService;
  limits: RateLimitStore;
  /** Keys the stored code hashes, so a database copy does not give the live codes away. */
  pairingKey: Uint8Array;
  now?: () => Date;
}

function makeCode(): string {
  let code = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) code += PAIRING_CODE_ALPHABET[randomInt(PAIRING_CODE_ALPHABET.length)];
  return code;
}

export function createBindingService(deps: Deps) {
  const { store, audit, directory, limits } = deps;
  const now = deps.now ?? (() => new Date());
  const hashCode = (code: string) => createHmac('sha256', deps.pairingKey).update(code).digest('hex');

  async function limited(key: string, rule: RateRule, what: string) {
    const wait = await limits.take(key, rule, now().getTime());
    if (wait > 0) throw new AppError('rate_limited', `Too many ${what}; retry in ${wait} s`, undefined, { 'Retry-After': String(wait) });
  }

  /** An active person of this org, or a 400 naming the field. */
  async function personOf(orgId: string, userId: string, field: string) {
    const user = await directory.findUser(userId).catch(() => undefined);
    if (!user || user.orgId !== orgId || user.deactivatedAt) {
      throw new AppError('validation_failed', `Invalid body: ${field}: not an active person of this organisation`, [
        { path: field, problem: 'not an active person of this organisation' },
      ]);
    }
    return user;
  }

  /** Ends the binding in force and starts `userId`'s (or none), audited with both people as subjects. */
  async function bind(orgId: string, deviceId: string, userId: string | null, method: BindingMethod | null, actor: Actor, reason?: string) {
    const at = now();
    const bindingId = userId ? uuidv7() : null;
    const boundBy = actor.type === 'user' ? actor.id : userId;
    const next = userId && method && bindingId ? { id: bindingId, userId, method, boundBy } : null;
    const { changed, previous } = await store.rebind(orgId, deviceId, at, actor.type === 'user' ? actor.id : null, next);
    if (!changed) throw new AppError('not_found', 'No such active device in this org', [{ path: 'deviceId', problem: 'not found' }]);
    const subjects = [...new Set([previous?.userId, userId].filter((id): id is string => typeof id === 'string'))];
    await audit.record({
      orgId,
      actorType: actor.type,
      actorId: actor.id,
      action: userId ? 'device.bound' : 'device.unbound',
      subjectUserIds: subjects,
      details: {
        deviceId,
        method,
        bindingId,
        previousUserId: previous?.userId ?? null,
        previousBindingId: previous?.id ?? null,
        ...(reason ? { reason } : {}),
      },
    });
    return { bindingId, at };
  }

  return {
    bind,

    /** A fresh code for the signed-in person; any earlier unused one dies. Shown once, kept hashed. */
    async createPairingCode(person: { orgId: string; userId: string }): Promise<{ code: string; expiresAt: Date }> {
      await limited(`pairing-code:${person.userId}`, PAIRING_LIMITS.perPerson, 'pairing codes made');
      const at = now();
      await store.retirePairingCodes(person.userId, at);
      const code = makeCode();
      const expiresAt = new Date(at.getTime() + PAIRING_CODE_TTL_MS);
      await store.insertPairingCode({ id: uuidv7(), orgId: person.orgId, userId: person.userId, codeHash: hashCode(code), expiresAt });
      await audit.record({
        orgId: person.orgId,
        actorType: 'user',
        actorId: person.userId,
        action: 'pairing_code.created',
        subjectUserIds: [person.userId],
        details: { expiresAt: expiresAt.toISOString() },
      });
      return { code, expiresAt };
    },

    /** The device proves it holds a code its person made: it is theirs from now on. */
    async pair(device: { orgId: string; deviceId: string }, code: string): Promise<DeviceBinding> {
      await limited(`pair:device:${device.deviceId}`, PAIRING_LIMITS.perDevice, 'pairing attempts from this device');
      await limited(`pair:org:${device.orgId}`, PAIRING_LIMITS.perOrg, 'pairing attempts in this organisation');
      const hash = hashCode(code);
      const taken = await store.consumePairingCode(device.orgId, hash, device.deviceId, now());
      if (!taken) {
        const known = await store.findPairingCode(device.orgId, hash);
        const why = !known ? 'is not a code of this organisation' : known.usedAt ? 'was already used' : 'has expired';
        await audit.record({
          orgId: device.orgId,
          actorType: 'device',
          actorId: device.deviceId,
          action: 'device.pairing_refused',
          details: { deviceId: device.deviceId, why },
        });
        throw new AppError('validation_failed', `Pairing code ${why}; make a new one under My data → Pair a computer`, [{ path: 'code', problem: why }]);
      }
      await personOf(device.orgId, taken.userId, 'code');
      await bind(device.orgId, device.deviceId, taken.userId, 'pairing_code', { type: 'device', id: device.deviceId });
      return this.bindingOf(device.deviceId);
    },

    /** IT names the person a device belongs to (or nobody). */
    async assign(orgId: string, deviceId: string, userId: string | null, adminUserId: string): Promise<DeviceBinding> {
      if (userId) await personOf(orgId, userId, 'userId');
      await bind(orgId, deviceId, userId, userId ? 'it_assignment' : null, { type: 'user', id: adminUserId });
      return this.bindingOf(deviceId);
    },

    /** "This is not my computer": the person ends a binding to themselves. */
    async disown(person: { orgId: string; userId: string }, deviceId: string): Promise<void> {
      const current = await store.currentBinding(deviceId);
      if (!current || current.userId !== person.userId || current.orgId !== person.orgId) {
        throw new AppError('not_found', 'No such device bound to you', [{ path: 'deviceId', problem: 'not found' }]);
      }
      await bind(person.orgId, deviceId, null, null, { type: 'user', id: person.userId }, 'not my computer');
    },

    /**
     * The person left the organisation's directory: every device bound to them records for no one
     * from now on, and each is told at its next sync (it stops capture and says why).
     */
    async endBindingsOf(orgId: string, userId: string, actor: Actor, reason: string, options: { eraseLocal: boolean }): Promise<string[]> {
      const ended: string[] = [];
      for (const device of await store.devicesOfUser(orgId, userId)) {
        await bind(orgId, device.id, null, null, actor, reason);
        // The org erases leavers' data: what the device still holds goes too, before it is told why.
        if (options.eraseLocal) await store.queueDirective(uuidv7(), device.id, { type: 'erase_local', reason });
        await store.queueDirective(uuidv7(), device.id, { type: 'binding_ended', reason });
        ended.push(device.id);
      }
      return ended;
    },

    /** Who the device speaks for, as the agent and its person are shown it. */
    async bindingOf(deviceId: string): Promise<DeviceBinding> {
      const [device, binding] = await Promise.all([store.findDevice(deviceId), store.currentBinding(deviceId)]);
      if (!device) throw new AppError('not_found', 'No such device', [{ path: 'deviceId', problem: 'not found' }]);
      const user = binding ? await directory.findUser(binding.userId).catch(() => undefined) : undefined;
      return {
        deviceId,
        osUser: device.osUser,
        boundTo: user ? { name: user.name, email: user.email } : null,
        boundAt: binding?.boundAt.toISOString() ?? null,
        method: binding?.method ?? null,
      };
    },

    /** The binding in force per device of the org: consent decisions count only under these. */
    async currentBindings(orgId: string): Promise<Map<string, { bindingId: string; userId: string }>> {
      const rows = await store.currentBindings(orgId);
      return new Map(rows.map((r) => [r.deviceId, { bindingId: r.id, userId: r.userId }]));
    },

    /** The ids of the bindings in force in the org: a decision made under any other counts for nobody. */
    currentBindingIds: (orgId: string) => store.currentBindingIds(orgId),

    /** The active devices bound to a person now (their "My computers" list). */
    async devicesOf(person: { orgId: string; userId: string }) {
      const rows = await store.devicesOfUser(person.orgId, person.userId);
      return rows.map((d) => ({ deviceId: d.id, name: d.name, platform: d.platform, osUser: d.osUser, lastSeenAt: d.lastSeenAt }));
    },
  };
}
export type BindingService = ReturnType<typeof createBindingService>;
