import { policyWidens, widenedScopes, type PolicyContent } from '@icarus/shared';
import type { AuditService } from '../audit';
import type { DirectoryService } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { isRe2Pattern, RE2_PATTERN_PROBLEM } from '../../platform/patterns';
import { diffPolicies, type PolicyDiff } from './diff';
import { policyHash } from './policies';
import type { ConsentService } from './service';
import type { ApprovalRow, ConsentStore, PolicyRow } from './store';

interface Deps {
  store: ConsentStore;
  consent: ConsentService;
  audit: AuditService;
  directory: DirectoryService;
  now?: () => Date;
}

export interface PolicyVersionView {
  version: number;
  state: PolicyRow['state'];
  hash: string;
  content: PolicyContent;
  createdBy: string | null;
  createdAt: string;
  publishedAt: string | null;
  approvals: { userId: string; asAdmin: boolean; asWorksCouncil: boolean; approvedAt: string }[];
  worksCouncilRequired: boolean;
  /** What is still missing before it may be published, in words; empty when it may. */
  missingApprovals: string[];
  /** Against the version in force now (null when none is). */
  diff: PolicyDiff;
}

/**
 * Policy versions from draft to published: create and edit a draft, submit it for review,
 * approve, publish. With works-council approval on, publishing needs an admin and a
 * works-council member, two different people. Every step is audited; every read and write
 * is scoped to the signed-in user's org, so another org's version is simply "not found".
 */
export function createPolicyDrafts(deps: Deps) {
  const { store, consent, audit, directory } = deps;
  const now = deps.now ?? (() => new Date());

  async function find(user: SignedInUser, version: number): Promise<PolicyRow> {
    const row = await store.policy(user.orgId, version);
    if (!row) throw new AppError('not_found', `No policy version ${version} in this organisation`, [{ path: 'version', problem: 'not found' }]);
    return row;
  }

  function wrongState(row: PolicyRow, wanted: string): AppError {
    return new AppError('conflict', `Policy version ${row.version} is ${row.state.replace('_', ' ')}; this needs it ${wanted}`, [
      { path: 'state', problem: `is ${row.state}` },
    ]);
  }

  function missing(approvals: ApprovalRow[], worksCouncilRequired: boolean): string[] {
    const admins = approvals.filter((a) => a.asAdmin);
    if (!worksCouncilRequired) return admins.length > 0 ? [] : ['an admin'];
    const council = approvals.filter((a) => a.asWorksCouncil);
    // Two different people: some admin and some council member who are not the same person.
    const paired = admins.some((a) => council.some((w) => w.userId !== a.userId));
    if (paired) return [];
    if (admins.length === 0 && council.length === 0) return ['an admin', 'a works-council member'];
    if (admins.length === 0) return ['an admin'];
    if (council.length === 0) return ['a works-council member'];
    return ['a second person (the admin and the works-council member must be two different people)'];
  }

  async function view(user: SignedInUser, row: PolicyRow): Promise<PolicyVersionView> {
    const [approvals, org, current] = await Promise.all([
      store.approvals(user.orgId, row.version),
      directory.findOrg(user.orgId),
      store.currentPolicy(user.orgId),
    ]);
    const worksCouncilRequired = org?.worksCouncilRequired ?? false;
    // A version not yet published is compared with the one in force; a published one with its predecessor.
    const open = row.state === 'draft' || row.state === 'in_review';
    const base = open ? current : await previousPublished(user.orgId, row.version);
    return {
      version: row.version,
      state: row.state,
      hash: row.hash,
      content: row.content,
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
      publishedAt: row.publishedAt ? row.publishedAt.toISOString() : null,
      approvals: approvals.map((a) => ({ userId: a.userId, asAdmin: a.asAdmin, asWorksCouncil: a.asWorksCouncil, approvedAt: a.approvedAt.toISOString() })),
      worksCouncilRequired,
      missingApprovals: row.state === 'in_review' ? missing(approvals, worksCouncilRequired) : [],
      diff: diffPolicies(base, row),
    };
  }

  async function previousPublished(orgId: string, version: number): Promise<PolicyRow | undefined> {
    const list = await store.publishedPolicies(orgId);
    return list.filter((p) => p.version < version).pop();
  }

  const record = (user: SignedInUser, action: string, details: Record<string, unknown>) =>
    audit.record({ orgId: user.orgId, actorType: 'user', actorId: user.userId, action, details });

  /** Drafts are read by those who decide on them: admins and works-council members. */
  async function assertReviewer(user: SignedInUser) {
    if (user.role === 'admin') return;
    const person = await directory.findUser(user.userId);
    if (person?.worksCouncil === true && person.orgId === user.orgId) return;
    throw new AppError('forbidden', 'Policy versions in preparation are for admins and works-council members');
  }

  return {
    async list(user: SignedInUser) {
      await assertReviewer(user);
      const rows = await store.listPolicies(user.orgId);
      return rows.map((r) => ({
        version: r.version,
        state: r.state,
        hash: r.hash,
        createdAt: r.createdAt.toISOString(),
        publishedAt: r.publishedAt?.toISOString() ?? null,
      }));
    },

    async get(user: SignedInUser, version: number): Promise<PolicyVersionView> {
      await assertReviewer(user);
      return view(user, await find(user, version));
    },

    /** One open version at a time: a second draft would race the first for the next number. */
    async createDraft(user: SignedInUser, content: PolicyContent): Promise<PolicyVersionView> {
      assertRunnablePatterns(content);
      const open = (await store.listPolicies(user.orgId)).find((r) => r.state === 'draft' || r.state === 'in_review');
      if (open)
        throw new AppError('conflict', `Version ${open.version} is still ${open.state.replace('_', ' ')}; edit or publish it first`, [
          { path: 'version', problem: `open version ${open.version}` },
        ]);
      const version = (await store.lastVersion(user.orgId)) + 1;
      try {
        await store.insertPolicy({ orgId: user.orgId, version, content, hash: policyHash(content), state: 'draft', createdBy: user.userId });
      } catch {
        // The primary key (org, version) caught a concurrent create.
        throw new AppError('conflict', 'Another draft was created at the same moment; reload', [{ path: 'version', problem: 'taken' }]);
      }
      await record(user, 'policy.draft_created', { version });
      return view(user, await find(user, version));
    },

    async updateDraft(user: SignedInUser, version: number, content: PolicyContent): Promise<PolicyVersionView> {
      assertRunnablePatterns(content);
      const row = await find(user, version);
      if (row.state !== 'draft' || !(await store.updateDraft(user.orgId, version, content, policyHash(content)))) throw wrongState(row, 'a draft');
      await record(user, 'policy.draft_updated', { version, hash: policyHash(content) });
      return view(user, await find(user, version));
    },

    async submit(user: SignedInUser, version: number): Promise<PolicyVersionView> {
      const row = await find(user, version);
      if (!(await store.moveState(user.orgId, version, 'draft', 'in_review'))) throw wrongState(row, 'a draft');
      await record(user, 'policy.submitted', { version, hash: row.hash });
      return view(user, await find(user, version));
    },

    /** Back to draft for changes; approvals given so far are dropped (they approved other text). */
    async reopen(user: SignedInUser, version: number): Promise<PolicyVersionView> {
      const row = await find(user, version);
      if (!(await store.moveState(user.orgId, version, 'in_review', 'draft'))) throw wrongState(row, 'in review');
      await record(user, 'policy.reopened', { version });
      return view(user, await find(user, version));
    },

    /** Admins approve as admins; users flagged works_council (any role) as the works council. */
    async approve(user: SignedInUser, version: number): Promise<PolicyVersionView> {
      const row = await find(user, version);
      if (row.state !== 'in_review') throw wrongState(row, 'in review');
      const person = await directory.findUser(user.userId);
      const asAdmin = user.role === 'admin';
      const asWorksCouncil = person?.worksCouncil === true && person.orgId === user.orgId;
      if (!asAdmin && !asWorksCouncil) throw new AppError('forbidden', 'Only an admin or a works-council member may approve a policy version');
      await store.addApproval({ orgId: user.orgId, version, userId: user.userId, asAdmin, asWorksCouncil, approvedAt: now() });
      await record(user, 'policy.approved', { version, hash: row.hash, asAdmin, asWorksCouncil });
      return view(user, row);
    },

    async publish(user: SignedInUser, version: number): Promise<PolicyVersionView> {
      if (user.role !== 'admin') throw new AppError('forbidden', 'Only an admin may publish a policy version');
      const row = await find(user, version);
      if (row.state !== 'in_review') throw wrongState(row, 'in review and approved');
      const [approvals, org, previous] = await Promise.all([
        store.approvals(user.orgId, version),
        directory.findOrg(user.orgId),
        store.currentPolicy(user.orgId),
      ]);
      const lacking = missing(approvals, org?.worksCouncilRequired ?? false);
      if (lacking.length > 0) {
        throw new AppError('conflict', `Not approved yet: still needs ${lacking.join(' and ')}`, [
          { path: 'approvals', problem: `needs ${lacking.join(' and ')}` },
        ]);
      }
      if (previous && previous.version > version) throw wrongState(previous, 'older than the draft');
      if (!(await store.publishReviewed(user.orgId, version, now()))) throw wrongState(row, 'in review');
      const widens = policyWidens(previous?.content, row.content);
      await audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.userId,
        action: 'policy.published',
        details: {
          version,
          hash: row.hash,
          previousVersion: previous?.version ?? null,
          widens,
          widenedScopes: widenedScopes(previous?.content, row.content),
          approvedBy: approvals.map((a) => a.userId),
        },
      });
      await consent.afterPublish(user.orgId, version, widens);
      return view(user, await find(user, version));
    },

    /** A person's decisions on every device, oldest first; 404 for someone outside the org. */
    async consentHistory(user: SignedInUser, userId: string) {
      const person = await directory.findUser(userId);
      if (!person || person.orgId !== user.orgId)
        throw new AppError('not_found', 'No such person in this organisation', [{ path: 'userId', problem: 'not found' }]);
      const rows = await store.consentHistory(user.orgId, userId);
      await audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.userId,
        action: 'consent.history_viewed',
        subjectUserIds: [userId],
        details: { records: rows.length },
      });
      return {
        person: { id: person.id, name: person.name, email: person.email },
        records: rows.map((r) => ({
          receiptId: r.id,
          deviceId: r.deviceId,
          policyVersion: r.policyVersion,
          policyHash: r.policyHash,
          decision: r.decision,
          requested: r.requestedScopes,
          granted: r.granted,
          method: r.method,
          effectiveAt: r.effectiveAt.toISOString(),
          supersededAt: r.supersededAt?.toISOString() ?? null,
        })),
      };
    },
  };
}
export type PolicyDrafts = ReturnType<typeof createPolicyDrafts>;

/** Agents run redaction rules on RE2; a pattern it cannot compile is refused before it is saved. */
function assertRunnablePatterns(content: PolicyContent): void {
  const fields = content.redactionRules.flatMap((rule, i) =>
    isRe2Pattern(rule.pattern) ? [] : [{ path: `redactionRules.${i}.pattern`, problem: RE2_PATTERN_PROBLEM }],
  );
  const first = fields[0];
  if (first) throw new AppError('validation_failed', `Invalid body: ${first.path}: ${first.problem}`, fields);
}
