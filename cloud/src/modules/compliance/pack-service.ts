import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import type { ConsentService } from '../consent';
import type { DirectoryService } from '../directory';
import { buildCompliancePack, diffPacks, type CompliancePack, type PackDiffLine, type PackProcessor } from './pack';

export interface PackView {
  orgName: string;
  pack: CompliancePack;
  /** Every published version, newest first: each has its pack. */
  versions: number[];
  currentVersion: number;
}

/**
 * The compliance pack of each published policy version, made on request from that version and the
 * configuration: nothing is stored, so publishing a policy is what makes the next pack, and an
 * earlier version's pack reads as it did (the processors are today's configuration).
 */
export function createCompliancePacks(deps: {
  consent: Pick<ConsentService, 'currentPolicy' | 'policyVersion'>;
  directory: Pick<DirectoryService, 'findOrg'>;
  processors: readonly PackProcessor[];
}) {
  async function packFor(user: Pick<SignedInUser, 'orgId'>, version: number, field: string): Promise<{ orgName: string; pack: CompliancePack }> {
    const org = await deps.directory.findOrg(user.orgId);
    const policy = await deps.consent.policyVersion(user.orgId, version);
    if (!org || !policy)
      throw new AppError('not_found', `No published policy version ${version} in this organisation`, [{ path: field, problem: 'not found' }]);
    const pack = buildCompliancePack({ orgName: org.name, policy, worksCouncilRequired: org.worksCouncilRequired, processors: deps.processors });
    return { orgName: org.name, pack };
  }

  async function published(user: Pick<SignedInUser, 'orgId'>): Promise<number[]> {
    const current = await deps.consent.currentPolicy(user.orgId);
    const versions: number[] = [];
    for (let v = current.version; v >= 1; v--) if (v === current.version || (await deps.consent.policyVersion(user.orgId, v))) versions.push(v);
    return versions;
  }

  return {
    /** The pack for `version` (absent: the version in force) with the list of versions to compare. */
    async view(user: Pick<SignedInUser, 'orgId'>, version?: number): Promise<PackView> {
      const versions = await published(user);
      const currentVersion = versions[0] ?? 0;
      const { orgName, pack } = await packFor(user, version ?? currentVersion, 'version');
      return { orgName, pack, versions, currentVersion };
    },
    /** What changed in the pack from one published version to another. */
    async diff(user: SignedInUser, from: number, to: number): Promise<{ from: CompliancePack; to: CompliancePack; lines: PackDiffLine[] }> {
      const a = (await packFor(user, from, 'from')).pack;
      const b = (await packFor(user, to, 'to')).pack;
      return { from: a, to: b, lines: diffPacks(a, b) };
    },
  };
}
export type CompliancePacks = ReturnType<typeof createCompliancePacks>;
