import type { Database } from '../../platform/db/client';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { csvField } from '../../platform/http/csv';
import type { AuditService } from '../audit';
import type { ConsentService } from '../consent';
import type { DirectoryService } from '../directory';
import { createAcknowledgmentStore } from './acknowledgment-store';

export interface AcknowledgmentRow {
  userId: string;
  name: string;
  email: string;
  teamId: string | null;
  /** When they acknowledged the notice of this version; null: not (yet). */
  acknowledgedAt: string | null;
}

/** Whose acknowledgment it is: a signed-in person, or the person a device is bound to (with the device). */
export interface NoticeReader {
  orgId: string;
  userId: string;
  /** Set when the acknowledgment comes from the agent on one of the person's devices. */
  deviceId?: string;
}

/**
 * The employee notice's acknowledgments: each person acknowledges the notice of the policy version
 * in force, once per version, on their own My data pages or in the agent on their computer. A new policy version needs a new
 * acknowledgment; the earlier ones stay as the record of what each person was shown.
 */
export function createNoticeAcknowledgments(deps: {
  database: Database;
  consent: Pick<ConsentService, 'currentPolicy' | 'policyVersion'>;
  directory: Pick<DirectoryService, 'listMembers'>;
  audit: AuditService;
  now?: () => Date;
}) {
  const store = createAcknowledgmentStore(deps.database);
  const now = deps.now ?? (() => new Date());

  const own = (person: NoticeReader, version: number) => store.find(person.userId, version);

  return {
    /** The person's acknowledgment of the notice in force (undefined: not given), on the web or any of their devices. */
    async mine(person: NoticeReader): Promise<{ version: number; hash: string; acknowledgedAt: string | undefined }> {
      const policy = await deps.consent.currentPolicy(person.orgId);
      return { version: policy.version, hash: policy.hash, acknowledgedAt: (await own(person, policy.version))?.acknowledgedAt.toISOString() };
    },

    /**
     * Acknowledges the notice of `version`, which must be the one in force (the page or screen
     * shown may be older than a publication); a device names the version's hash too, so what
     * was acknowledged is exactly the text it showed. Audited with who acknowledged it where.
     */
    async acknowledge(person: NoticeReader, version: number, hash?: string): Promise<{ acknowledgedAt: string; first: boolean }> {
      const policy = await deps.consent.currentPolicy(person.orgId);
      if (policy.version !== version)
        throw new AppError('conflict', `The notice changed: policy version ${policy.version} is in force now; read it and acknowledge again`, [
          { path: 'version', problem: `is ${version}, not the version in force (${policy.version})` },
        ]);
      if (hash !== undefined && hash !== policy.hash)
        throw new AppError('conflict', `The notice shown is not the text of policy version ${version}; read it again and acknowledge`, [
          { path: 'hash', problem: `is not the hash of policy version ${version}` },
        ]);
      const at = now();
      const first = await store.insertOnce({ orgId: person.orgId, userId: person.userId, policyVersion: version, policyHash: policy.hash, acknowledgedAt: at });
      if (!first) return { acknowledgedAt: (await own(person, version))?.acknowledgedAt.toISOString() ?? at.toISOString(), first: false };
      await deps.audit.record({
        orgId: person.orgId,
        actorType: person.deviceId ? 'device' : 'user',
        actorId: person.deviceId ?? person.userId,
        action: 'notice.acknowledged',
        subjectUserIds: [person.userId],
        details: { policyVersion: version, policyHash: policy.hash, via: person.deviceId ? 'device' : 'web' },
      });
      return { acknowledgedAt: at.toISOString(), first: true };
    },

    /** Everyone active in the org, with their acknowledgment of `version`'s notice (absent: the version in force). */
    async list(user: SignedInUser, version?: number): Promise<{ version: number; rows: AcknowledgmentRow[] }> {
      const v = version ?? (await deps.consent.currentPolicy(user.orgId)).version;
      if (!(await deps.consent.policyVersion(user.orgId, v)))
        throw new AppError('not_found', `No published policy version ${v} in this organisation`, [{ path: 'version', problem: 'not found' }]);
      const given = await store.ofVersion(user.orgId, v);
      const at = new Map(given.map((g) => [g.userId, g.acknowledgedAt.toISOString()]));
      const members = await deps.directory.listMembers(user.orgId);
      return {
        version: v,
        rows: members.map((m) => ({ userId: m.id, name: m.name, email: m.email, teamId: m.teamId, acknowledgedAt: at.get(m.id) ?? null })),
      };
    },
  };
}
export type NoticeAcknowledgments = ReturnType<typeof createNoticeAcknowledgments>;

/** One table, RFC 4180 (CRLF): a row per person of the org, acknowledged or not. */
export function acknowledgmentsCsv(version: number, rows: readonly AcknowledgmentRow[]): string {
  const lines = ['policy_version,user_id,name,email,acknowledged,acknowledged_at'];
  for (const r of rows)
    lines.push([String(version), r.userId, r.name, r.email, r.acknowledgedAt ? 'yes' : 'no', r.acknowledgedAt ?? ''].map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
