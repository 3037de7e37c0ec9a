// Consent as the person sees and changes it on the web. A decision is stored per device and per
// binding (the person the device spoke for when they decided); the web session proves the person,
// not a device, so a withdrawal made on the web is recorded on every computer bound to them now,
// each with its own signed receipt (collection method "web"), and each computer is told by a
// consent_revoked directive at its next sync. Granting stays on the computer: the person grants
// where they can see what it records. A decision from before a rebinding is not theirs and is
// left alone.
import { ALL_SCOPES, type Scope } from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import type { AuditService } from '../audit';
import type { DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import { AppError } from '../../platform/errors';
import type { ConsentEvent } from './events';
import type { createPolicyPublication } from './policies';
import { buildReceiptPayload, signReceipt, type ReceiptContext } from './receipt';
import type { Keyring, SigningKey } from '../../platform/keyring';
import type { ConsentStore } from './store';

export interface PersonRef {
  orgId: string;
  userId: string;
}

/** One computer's standing decision for the person: what it may record now. */
export interface DeviceConsent {
  deviceId: string;
  name: string;
  /** Scopes granted under the binding in force; empty when the person has not decided there yet. */
  granted: Scope[];
  decidedAt: string | null;
  policyVersion: number | null;
}

export interface WebConsentDeps {
  store: ConsentStore;
  audit: AuditService;
  directory: Pick<DirectoryService, 'findUser'>;
  devices: Pick<DeviceService, 'devicesOfUser' | 'queueDirective'>;
  policies: Pick<ReturnType<typeof createPolicyPublication>, 'cachedPublishedVersion' | 'toPolicy'>;
  receiptKeys: Keyring<SigningKey>;
  receiptContext: ReceiptContext;
  announce: (event: ConsentEvent) => Promise<void>;
  now: () => Date;
}

export function createWebConsent(deps: WebConsentDeps) {
  const { store, audit, devices, now } = deps;

  /** The person's bound computers with the decision each holds under its current binding. */
  async function standing(person: PersonRef) {
    const bound = await devices.devicesOfUser(person.orgId, person.userId);
    return Promise.all(
      bound.map(async (d) => {
        const latest = await store.latestConsent(d.id);
        const mine = latest && d.bindingId !== null && latest.bindingId === d.bindingId ? latest : undefined;
        return { device: d, latest: mine };
      }),
    );
  }

  return {
    /** Per computer bound to the person: what it may record now, and since when. */
    async consentOf(person: PersonRef): Promise<DeviceConsent[]> {
      return (await standing(person)).map(({ device, latest }) => ({
        deviceId: device.id,
        name: device.name,
        granted: latest ? ALL_SCOPES.filter((s) => latest.granted.includes(s)) : [],
        decidedAt: latest?.effectiveAt.toISOString() ?? null,
        policyVersion: latest?.policyVersion ?? null,
      }));
    },

    /**
     * Withdraws `scopes` on every computer bound to the person that grants any of them. The
     * decision keeps the policy version it narrows (a withdrawal accepts no new terms, so a
     * newer version still asks on the computer). Returns the computers it changed.
     */
    async withdraw(person: PersonRef, scopes: Scope[]): Promise<{ deviceId: string; name: string; withdrawn: Scope[] }[]> {
      const user = await deps.directory.findUser(person.userId).catch(() => undefined);
      if (!user || user.orgId !== person.orgId) throw new AppError('not_found', 'No such person in this org');
      const changed: { deviceId: string; name: string; withdrawn: Scope[] }[] = [];
      for (const { device, latest } of await standing(person)) {
        if (!latest || device.bindingId === null) continue;
        const withdrawn = ALL_SCOPES.filter((s) => scopes.includes(s) && latest.granted.includes(s));
        if (withdrawn.length === 0) continue;
        const policy = await deps.policies.cachedPublishedVersion(person.orgId, latest.policyVersion);
        if (!policy) throw new AppError('internal', `policy version ${latest.policyVersion} of a standing decision is missing`);
        const granted = ALL_SCOPES.filter((s) => latest.granted.includes(s) && !withdrawn.includes(s));
        const at = now();
        const receiptId = uuidv7();
        const jws = await signReceipt(
          buildReceiptPayload({
            context: deps.receiptContext,
            receiptId,
            at,
            method: 'web',
            decision: 'withdrawn',
            person: user,
            device: { id: device.id, osUser: device.osUser },
            orgId: person.orgId,
            policy: { version: policy.version, url: deps.policies.toPolicy(policy).url, hash: policy.hash, content: policy.content },
            granted,
            agentVersion: null,
          }),
          deps.receiptKeys.newest,
        );
        await store.appendConsent({
          id: receiptId,
          orgId: person.orgId,
          deviceId: device.id,
          userId: user.id,
          bindingId: device.bindingId,
          policyVersion: policy.version,
          policyHash: policy.hash,
          decision: 'withdrawn',
          requestedScopes: withdrawn,
          granted,
          method: 'web',
          effectiveAt: at,
          receiptJws: jws,
        });
        await audit.record({
          orgId: person.orgId,
          actorType: 'user',
          actorId: user.id,
          action: 'consent.withdrawn',
          subjectUserIds: [user.id],
          details: {
            receiptId,
            deviceId: device.id,
            bindingId: device.bindingId,
            policyVersion: policy.version,
            granted,
            previouslyGranted: latest.granted,
            via: 'web',
          },
        });
        // The server refuses the scopes from now on either way; the directive stops capture on the computer.
        await devices.queueDirective(device.id, { type: 'consent_revoked', scopes: withdrawn, reason: 'you withdrew consent on the web' });
        await deps.announce({
          type: 'consent.decided',
          orgId: person.orgId,
          deviceId: device.id,
          userId: user.id,
          decision: 'withdrawn',
          receiptId,
          policyVersion: policy.version,
          granted,
        });
        changed.push({ deviceId: device.id, name: device.name, withdrawn });
      }
      return changed;
    },
  };
}
export type WebConsent = ReturnType<typeof createWebConsent>;
