import { createHash, type KeyObject } from 'node:crypto';
import {
  ALL_SCOPES,
  canonicalJson,
  policyWidens,
  widenedScopes,
  type ConsentDecision,
  type ConsentReceipt,
  type Directive,
  type Policy,
  type PolicyContent,
  type ReceiptPayload,
  type Scope,
} from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import type { AuditService } from '../audit/service';
import type { DeviceIdentity } from '../devices/service';
import { AppError } from '../errors';
import { diffPolicies, type PolicyDiff } from './diff';
import { receiptPurposes, signReceipt, visibilitySummary } from './receipt';
import type { ConsentStore, PolicyRow } from './store';

interface Deps {
  store: ConsentStore;
  audit: AuditService;
  receiptKey: KeyObject;
  receiptKeyId: string;
  publicUrl: () => string;
  now?: () => Date;
}

/** What a device may record, from when: the consent state over time. */
export interface ConsentTimeline {
  entries: { fromMs: number; granted: ReadonlySet<Scope>; policyVersion: number }[];
}

/** What the consent service announces to listeners (notifications confirm decisions to the employee). */
export type ConsentEvent =
  | { type: 'consent.decided'; orgId: string; deviceId: string; userId: string | null; decision: ConsentDecision['decision']; receiptId: string; policyVersion: number; granted: Scope[] }
  | { type: 'policy.published'; orgId: string; version: number; widens: boolean };
/** Awaited after the change is stored; a listener handles its own failures (they never undo the change). */
export type ConsentListener = (event: ConsentEvent) => Promise<void>;

export function policyHash(content: PolicyContent): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
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

export function createConsentService(deps: Deps) {
  const { store, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const listeners: ConsentListener[] = [];
  const announce = async (event: ConsentEvent) => {
    await Promise.allSettled(listeners.map((listener) => listener(event)));
  };

  function toPolicy(row: PolicyRow): Policy {
    return {
      orgId: row.orgId,
      version: row.version,
      publishedAt: (row.publishedAt ?? row.createdAt).toISOString(),
      hash: row.hash,
      url: `${deps.publicUrl()}/privacy/policy/${row.orgId}/${row.version}`,
      content: row.content,
    };
  }

  // Published versions never change, so each is read once; "which is current" is re-read
  // every few seconds, since another instance may publish.
  const publishedVersions = new Map<string, PolicyRow>();
  const currentVersions = new Map<string, { row: PolicyRow; readAt: number }>();
  const CURRENT_TTL_MS = 2000;

  function forgetCurrent(orgId: string) {
    currentVersions.delete(orgId);
    publishedLists.delete(orgId);
  }

  async function cachedCurrentPolicy(orgId: string): Promise<PolicyRow | undefined> {
    const hit = currentVersions.get(orgId);
    if (hit && now().getTime() - hit.readAt < CURRENT_TTL_MS) return hit.row;
    const row = await store.currentPolicy(orgId);
    if (row) currentVersions.set(orgId, { row, readAt: now().getTime() });
    return row;
  }

  async function cachedPublishedVersion(orgId: string, version: number): Promise<PolicyRow | undefined> {
    const key = `${orgId}:${version}`;
    const hit = publishedVersions.get(key);
    if (hit) return hit;
    const row = await store.policy(orgId, version);
    if (row?.state === 'published' || row?.state === 'retired') publishedVersions.set(key, row);
    return row;
  }

  // The org's published versions, for holding widened scopes in device timelines; re-read like
  // "current", since another instance may publish.
  const publishedLists = new Map<string, { rows: PolicyRow[]; readAt: number }>();
  async function cachedPublishedList(orgId: string): Promise<PolicyRow[]> {
    const hit = publishedLists.get(orgId);
    if (hit && now().getTime() - hit.readAt < CURRENT_TTL_MS) return hit.rows;
    const rows = await store.publishedPolicies(orgId);
    publishedLists.set(orgId, { rows, readAt: now().getTime() });
    return rows;
  }

  async function currentPolicyRow(orgId: string): Promise<PolicyRow> {
    const row = await store.currentPolicy(orgId);
    if (!row) throw new AppError('not_found', 'This organisation has not published a policy yet');
    return row;
  }

  return {
    policyHash,

    onEvent(listener: ConsentListener) {
      listeners.push(listener);
    },

    async currentPolicy(orgId: string): Promise<Policy> {
      return toPolicy(await currentPolicyRow(orgId));
    },

    async policyVersion(orgId: string, version: number): Promise<Policy | undefined> {
      const row = await store.policy(orgId, version);
      return row && (row.state === 'published' || row.state === 'retired') ? toPolicy(row) : undefined;
    },

    /** Publishes a version straight away (drafts and approvals build on this). */
    async publish(orgId: string, content: PolicyContent, actor: { type: 'user' | 'system'; id: string }): Promise<Policy> {
      const previous = await store.currentPolicy(orgId);
      // After any draft's number, so a draft published later can never sort above this one.
      const version = Math.max(previous?.version ?? 0, await store.lastVersion(orgId)) + 1;
      const at = now();
      const hash = policyHash(content);
      await store.insertPolicy({ orgId, version, content, hash, state: 'published', createdBy: actor.type === 'user' ? actor.id : null, publishedAt: at });
      await audit.record({
        orgId,
        actorType: actor.type,
        actorId: actor.id,
        action: 'policy.published',
        details: { version, hash, widens: policyWidens(previous?.content, content) },
      });
      const row = await store.policy(orgId, version);
      if (!row) throw new AppError('internal', 'policy vanished after publishing');
      currentVersions.delete(orgId);
      await announce({ type: 'policy.published', orgId, version, widens: policyWidens(previous?.content, content) });
      return toPolicy(row);
    },

    /** Records a person's decision on their device and returns the signed receipt. */
    async decide(device: DeviceIdentity & { osUser: string }, decision: ConsentDecision): Promise<ConsentReceipt> {
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
      const before = new Set<Scope>(previous?.granted ?? []);
      let granted: Scope[];
      if (decision.decision === 'granted') granted = ALL_SCOPES.filter((s) => decision.scopes.includes(s));
      else if (decision.decision === 'declined') granted = [];
      else {
        const withdrawn = decision.scopes.length === 0 ? ALL_SCOPES : decision.scopes;
        granted = ALL_SCOPES.filter((s) => before.has(s) && !withdrawn.includes(s));
      }

      const at = now();
      const receiptId = uuidv7();
      const payload: ReceiptPayload = {
        version: 'KI-CR-v1.1.0',
        receiptId,
        consentTimestamp: at.toISOString(),
        collectionMethod: decision.method,
        decision: decision.decision,
        principal: { userId: device.userId, osUser: device.osUser, deviceId: device.deviceId },
        controller: { ...policy.content.controller, orgId: device.orgId },
        policy: { version: policy.version, url: toPolicy(policy).url, hash: policy.hash, titleMode: policy.content.titleMode },
        purposes: receiptPurposes(policy.content, granted),
        scopesGranted: granted,
        retentionDays: policy.content.retentionDays,
        visibility: {
          managersSeeIndividuals: policy.content.managersSeeIndividuals,
          minGroupSize: policy.content.minGroupSize,
          summary: visibilitySummary(policy.content),
        },
        agentVersion: decision.agentVersion ?? null,
      };
      const jws = await signReceipt(payload, deps.receiptKey, deps.receiptKeyId);
      await store.appendConsent({
        id: receiptId,
        orgId: device.orgId,
        deviceId: device.deviceId,
        userId: device.userId,
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
        subjectUserIds: device.userId ? [device.userId] : [],
        details: { receiptId, policyVersion: policy.version, granted, previouslyGranted: [...before] },
      });
      await announce({ type: 'consent.decided', orgId: device.orgId, deviceId: device.deviceId, userId: device.userId, decision: decision.decision, receiptId, policyVersion: policy.version, granted });
      return { jws, payload };
    },

    /** Decisions in force on each device of the org (reports: coverage, individual visibility). */
    currentConsents: store.currentConsents,
    withdrawalsSince: store.withdrawalsSince,

    /**
     * The device's decisions, plus the server's own hold: from the moment a later version
     * that widens a granted scope is published, that scope counts as not granted until the
     * person decides on the new version. The hold keeps the decision's policyVersion, so the
     * re-prompt directive still fires.
     */
    async timeline(deviceId: string): Promise<ConsentTimeline> {
      const rows = await store.timeline(deviceId);
      const entries: ConsentTimeline['entries'] = [];
      const orgId = rows[0]?.orgId;
      const published = orgId ? await cachedPublishedList(orgId) : [];
      rows.forEach((r, i) => {
        const fromMs = r.effectiveAt.getTime();
        const untilMs = rows[i + 1]?.effectiveAt.getTime() ?? Infinity;
        entries.push({ fromMs, granted: new Set(r.granted), policyVersion: r.policyVersion });
        const decidedOn = published.find((p) => p.version === r.policyVersion);
        if (!decidedOn) return;
        for (const later of published) {
          const at = (later.publishedAt ?? later.createdAt).getTime();
          if (later.version <= r.policyVersion || at >= untilMs) continue;
          const widened = new Set(widenedScopes(decidedOn.content, later.content));
          if (![...r.granted].some((s) => widened.has(s))) continue;
          const held = entries[entries.length - 1]?.granted ?? new Set<Scope>();
          entries.push({ fromMs: Math.max(at, fromMs), granted: new Set([...held].filter((s) => !widened.has(s))), policyVersion: r.policyVersion });
        }
      });
      return { entries };
    },

    /** Every decision a person made, across devices, oldest first (admin history view). */
    consentHistory: store.consentHistory,

    /** What changed from version `from` (or nothing) to `to`, both published; undefined when either is unknown. */
    async diff(orgId: string, from: number | undefined, to?: number): Promise<PolicyDiff | undefined> {
      const target = to === undefined ? await store.currentPolicy(orgId) : await cachedPublishedVersion(orgId, to);
      if (!target || (target.state !== 'published' && target.state !== 'retired')) return undefined;
      const base = from === undefined ? undefined : await cachedPublishedVersion(orgId, from);
      if (from !== undefined && (!base || (base.state !== 'published' && base.state !== 'retired'))) return undefined;
      return diffPolicies(base, target);
    },

    /** After an approved draft is published (consent/drafts.ts): drop cached "current", tell listeners. */
    async afterPublish(orgId: string, version: number, widens: boolean) {
      forgetCurrent(orgId);
      await announce({ type: 'policy.published', orgId, version, widens });
    },

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
