import type { Keyring, SigningKey } from '../../platform/keyring';
import { ALL_SCOPES, widenedScopes, type ConsentDecision, type ConsentReceipt, type Directive, type Scope } from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import type { AuditService } from '../audit';
import type { InvalidationBus } from '../../platform/invalidation';
import type { BindingService, DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import type { EnrolledDevice } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { createPolicyPublication } from './policies';
import { buildReceiptPayload, signReceipt, type ReceiptContext } from './receipt';
import type { ConsentEvent, ConsentListener } from './events';
import type { ConsentStore } from './store';
import { createWebConsent } from './web-withdrawal';
import { createImportConsent } from './imports';

export type { ConsentEvent, ConsentListener } from './events';

interface Deps {
  /** Tells every instance that a policy was published (their policy caches empty at once). */
  bus: InvalidationBus;
  store: ConsentStore;
  audit: AuditService;
  directory: Pick<DirectoryService, 'findUser'>;
  bindings: Pick<BindingService, 'currentBindings' | 'currentBindingIds'>;
  /** The person's bound computers and their directives: a web withdrawal applies to each. */
  devices: Pick<DeviceService, 'devicesOfUser' | 'queueDirective' | 'findDevice'>;
  receiptKeys: Keyring<SigningKey>;
  receiptContext: ReceiptContext;
  publicUrl: () => string;
  now?: () => Date;
}

/** What a device may record, from when, under the binding in force: the consent state over time. */
export interface ConsentTimeline {
  entries: { fromMs: number; granted: ReadonlySet<Scope>; policyVersion: number }[];
}

/** Every decision made on a device, each under the binding (person) it was made by. */
export interface ConsentHistory {
  decisions: (ConsentTimeline['entries'][number] & { bindingId: string | null })[];
}

/**
 * The device's timeline for the person it speaks for now: a decision made while it was bound to
 * someone else (or to no one) never counts, so an unbound device has no consent at all.
 */
export function inForce(history: ConsentHistory, bindingId: string | null): ConsentTimeline {
  if (bindingId === null) return { entries: [] };
  return { entries: history.decisions.filter((e) => e.bindingId === bindingId) };
}

/** The scopes in force at `atMs`: the last decision made at or before that instant. */
export function grantedAt(timeline: ConsentTimeline, atMs: number): ReadonlySet<Scope> | undefined {
  let found: ReadonlySet<Scope> | undefined;
  for (const entry of timeline.entries) {
    if (entry.fromMs > atMs) break;
    found = entry.granted;
  }
  return found;
}

/**
 * Consent decisions: each device's decision recorded with its signed receipt, the consent
 * timeline ingestion checks spans against, and the re-prompt directive. Policy publication
 * and the cached policy reads are in policies.ts; this service offers both as one API.
 */
export function createConsentService(deps: Deps) {
  const { store, audit, directory, bindings } = deps;
  const now = deps.now ?? (() => new Date());
  const listeners: ConsentListener[] = [];
  const announce = async (event: ConsentEvent) => {
    await Promise.allSettled(listeners.map((listener) => listener(event)));
  };

  const policies = createPolicyPublication({ store, audit, publicUrl: deps.publicUrl, now, announce, bus: deps.bus });
  const { toPolicy, currentPolicyRow, cachedCurrentPolicy, cachedPublishedVersion, cachedPublishedList } = policies;
  const web = createWebConsent({
    store,
    audit,
    directory,
    devices: deps.devices,
    policies,
    receiptKeys: deps.receiptKeys,
    receiptContext: deps.receiptContext,
    announce,
    now,
  });

  const imports = createImportConsent({
    store,
    audit,
    directory,
    policies,
    receiptKeys: deps.receiptKeys,
    receiptContext: deps.receiptContext,
    devices: deps.devices,
    now,
  });

  return {
    ...policies.api,

    /** Consent for imported history over a past period (ActivityWatch): grant, withdraw (erasing it), list, and what a batch may store. */
    imports,

    /** Per computer bound to the person now: the scopes it may record (the web's My data). */
    consentOf: web.consentOf,

    /** The person, signed in on the web, withdraws scopes on every computer bound to them (a receipt and a directive each). */
    withdrawOnWeb: web.withdraw,

    onEvent(listener: ConsentListener) {
      listeners.push(listener);
    },

    /**
     * Records a person's decision on their device and returns the signed receipt. Only a device
     * bound to a person (by their pairing code or by IT) may decide, and only for that person.
     */
    async decide(device: EnrolledDevice, decision: ConsentDecision): Promise<ConsentReceipt> {
      const person = device.userId && device.bindingId ? await directory.findUser(device.userId).catch(() => undefined) : undefined;
      if (!device.userId || !device.bindingId || !person || person.orgId !== device.orgId) {
        throw new AppError(
          'device_unbound',
          'This device is not bound to a person, so no one can consent on it yet: pair it with a code from My data → Pair a computer, or ask IT to assign it',
          [{ path: 'device', problem: 'not bound to a person' }],
        );
      }
      const bindingId = device.bindingId;
      const policy = await currentPolicyRow(device.orgId);
      if (decision.policyVersion !== policy.version) {
        throw new AppError('conflict', `Policy version ${decision.policyVersion} is not the current one (${policy.version}); fetch /v1/policy and ask again`, [
          { path: 'policyVersion', problem: `current version is ${policy.version}` },
        ]);
      }
      const offered = new Set(policy.content.scopes.map((s) => s.scope));
      const fields = decision.scopes.flatMap((scope, i) =>
        offered.has(scope) ? [] : [{ path: `scopes.${i}`, problem: `"${scope}" is not a scope of policy version ${policy.version}` }],
      );
      if (fields.length > 0) throw new AppError('validation_failed', `Invalid body: ${fields[0]?.problem}`, fields);

      const previous = await store.latestConsent(device.deviceId);
      // What another person (an earlier binding) granted here is not this person's to withdraw from.
      const before = new Set<Scope>(previous?.bindingId === bindingId ? previous.granted : []);
      let granted: Scope[];
      if (decision.decision === 'granted') granted = ALL_SCOPES.filter((s) => decision.scopes.includes(s));
      else if (decision.decision === 'declined') granted = [];
      else {
        const withdrawn = decision.scopes.length === 0 ? ALL_SCOPES : decision.scopes;
        granted = ALL_SCOPES.filter((s) => before.has(s) && !withdrawn.includes(s));
      }

      const at = now();
      const receiptId = uuidv7();
      const payload = buildReceiptPayload({
        context: deps.receiptContext,
        receiptId,
        at,
        method: decision.method,
        decision: decision.decision,
        person,
        device: { id: device.deviceId, osUser: device.osUser },
        orgId: device.orgId,
        policy: { version: policy.version, url: toPolicy(policy).url, hash: policy.hash, content: policy.content },
        granted,
        agentVersion: decision.agentVersion ?? null,
      });
      const jws = await signReceipt(payload, deps.receiptKeys.newest);
      await store.appendConsent({
        id: receiptId,
        orgId: device.orgId,
        deviceId: device.deviceId,
        userId: person.id,
        bindingId,
        policyVersion: policy.version,
        policyHash: policy.hash,
        decision: decision.decision,
        requestedScopes: decision.scopes,
        granted,
        method: decision.method,
        effectiveAt: at,
        receiptJws: jws,
      });
      await audit.record({
        orgId: device.orgId,
        actorType: 'device',
        actorId: device.deviceId,
        action: `consent.${decision.decision}`,
        subjectUserIds: [person.id],
        details: { receiptId, bindingId, policyVersion: policy.version, granted, previouslyGranted: [...before] },
      });
      await announce({
        type: 'consent.decided',
        orgId: device.orgId,
        deviceId: device.deviceId,
        userId: device.userId,
        decision: decision.decision,
        receiptId,
        policyVersion: policy.version,
        granted,
      });
      return { jws, payload };
    },

    withdrawalsSince: store.withdrawalsSince,

    /**
     * Each person's decision in force: the latest one made under a binding in force (a decision
     * from before a rebinding, or on a device since unbound, is no one's), read a row per person.
     */
    async latestDecisions(orgId: string) {
      return store.latestDecisions(orgId, await bindings.currentBindingIds(orgId));
    },

    /**
     * The people given, counted per team and policy version by their decision in force (as
     * `latestDecisions` picks it: the latest one made under the binding in force): the compliance
     * report's coverage, in one aggregate read.
     */
    async coverageCounts(orgId: string, people: readonly { id: string; teamId: string | null }[], currentVersion: number | null) {
      return store.coverageCounts(orgId, people, await bindings.currentBindingIds(orgId), currentVersion);
    },

    /**
     * The device's decisions, plus the server's own hold: from the moment a later version
     * that widens a granted scope is published, that scope counts as not granted until the
     * person decides on the new version. The hold keeps the decision's policyVersion, so the
     * re-prompt directive still fires.
     */
    async timeline(deviceId: string): Promise<ConsentHistory> {
      const rows = await store.timeline(deviceId);
      const entries: ConsentHistory['decisions'] = [];
      const orgId = rows[0]?.orgId;
      const published = orgId ? await cachedPublishedList(orgId) : [];
      rows.forEach((r, i) => {
        const fromMs = r.effectiveAt.getTime();
        const untilMs = rows[i + 1]?.effectiveAt.getTime() ?? Infinity;
        entries.push({ fromMs, granted: new Set(r.granted), policyVersion: r.policyVersion, bindingId: r.bindingId });
        const decidedOn = published.find((p) => p.version === r.policyVersion);
        if (!decidedOn) return;
        for (const later of published) {
          const at = (later.publishedAt ?? later.createdAt).getTime();
          if (later.version <= r.policyVersion || at >= untilMs) continue;
          const widened = new Set(widenedScopes(decidedOn.content, later.content));
          if (![...r.granted].some((s) => widened.has(s))) continue;
          const held = entries[entries.length - 1]?.granted ?? new Set<Scope>();
          entries.push({
            fromMs: Math.max(at, fromMs),
            granted: new Set([...held].filter((s) => !widened.has(s))),
            policyVersion: r.policyVersion,
            bindingId: r.bindingId,
          });
        }
      });
      return { decisions: entries };
    },

    /** Every decision a person made, across devices, oldest first (admin history view). */
    consentHistory: store.consentHistory,

    /**
     * A device whose last decision predates the current policy is told to ask again; the
     * scopes the new version widens stay stopped until then.
     */
    async policyDirective(orgId: string, timeline: ConsentTimeline): Promise<Directive | undefined> {
      const last = timeline.entries[timeline.entries.length - 1];
      const current = await cachedCurrentPolicy(orgId);
      if (!current) return undefined;
      if (last && last.policyVersion >= current.version) return undefined;
      const decidedOn = last ? await cachedPublishedVersion(orgId, last.policyVersion) : undefined;
      return {
        type: 'policy_changed',
        policyVersion: current.version,
        scopesNeedingConsent: last ? widenedScopes(decidedOn?.content, current.content) : current.content.scopes.map((s) => s.scope),
      };
    },
  };
}
export type ConsentService = ReturnType<typeof createConsentService>;
