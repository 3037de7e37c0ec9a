import { createHash } from 'node:crypto';
import { canonicalJson, policyWidens, type Policy, type PolicyContent } from '@icarus/shared';
import type { AuditService } from '../audit';
import type { InvalidationBus } from '../../platform/invalidation';
import { AppError } from '../../platform/errors';
import { diffPolicies, type PolicyDiff } from './diff';
import type { ConsentEvent } from './events';
import type { ConsentStore, PolicyRow } from './store';

export function policyHash(content: PolicyContent): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/**
 * Re-read "which version is current" this often at the latest: a publication on any instance
 * empties these caches at once through the bus; the lifetime covers a lost message.
 */
const CURRENT_TTL_MS = 30_000;

/**
 * Policy publication and the policy reads behind every decision and sync: published versions
 * never change, so each is read once; "which is current" and the list of published versions
 * are re-read every few seconds.
 */
export function createPolicyPublication(deps: {
  store: ConsentStore;
  audit: AuditService;
  publicUrl: () => string;
  now: () => Date;
  announce: (event: ConsentEvent) => Promise<void>;
  bus: InvalidationBus;
}) {
  const { store, audit, now, announce } = deps;
  const publishedVersions = new Map<string, PolicyRow>();
  const currentVersions = new Map<string, { row: PolicyRow; readAt: number }>();
  const publishedLists = new Map<string, { rows: PolicyRow[]; readAt: number }>();

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

  function forgetCurrent(orgId: string | null) {
    if (orgId === null) {
      currentVersions.clear();
      publishedLists.clear();
      return;
    }
    currentVersions.delete(orgId);
    publishedLists.delete(orgId);
  }
  deps.bus.subscribe('policy', forgetCurrent);

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

  /** The org's published versions, for holding widened scopes in device timelines. */
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
    toPolicy,
    currentPolicyRow,
    cachedCurrentPolicy,
    cachedPublishedVersion,
    cachedPublishedList,

    /** The part of the consent service's API that is about policies. */
    api: {
      policyHash,

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
        await deps.bus.publish('policy', orgId);
        await announce({ type: 'policy.published', orgId, version, widens });
      },
    },
  };
}
