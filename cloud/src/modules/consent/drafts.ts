import { policyWidens, purposeConflicts, widenedScopes, type PolicyContent, type PurposeConflict } from '@icarus/shared';
import type { AuditService } from '../audit';
import type { DirectoryService } from '../directory';
import type { SignedInUser } from '../../platform/env';
import { toImportGrant } from './imports';
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
  /** Who created or edited it, by name: none of them may approve it. */
  authors: { userId: string; name: string }[];
  createdAt: string;
  publishedAt: string | null;
  approvals: { userId: string; name: string; asAdmin: boolean; asWorksCouncil: boolean; approvedAt: string }[];
  worksCouncilRequired: boolean;
  /** True when the content is the same as the version it would replace: nothing to submit or publish. */
  nothingChanged: boolean;
  /** Where the purpose texts read differently from what the settings let managers see. */
  conflicts: PurposeConflict[];
  /** What is still missing before it may be published, in words; empty when it may. */
  missingApprovals: string[];
  /**
   * The organisation has nobody but this admin to review it (one admin, no works-council member,
   * works-council approval off): they may publish their own version after confirming that no
   * second person reviewed it.
   */
  mayPublishWithoutReview: boolean;
  publishedWithoutReview: boolean;
  /** Against the version in force now (null when none is). */
  diff: PolicyDiff;
}

/**
 * Policy versions from draft to published: create and edit a draft, submit it for review,
 * approve, publish. Nobody approves a version they created or edited: publishing needs the
 * approval of someone else (an admin or a works-council member), and with works-council approval
 * on, that someone must include a works-council member. A version with nothing changed from the
 * one in force is refused at submit and at publish. The one exception: an organisation whose only
 * possible reviewer is the admin publishing (one admin, no works-council member, works-council
 * approval off) may publish its own version after an explicit confirmation that no second person
 * reviewed it, recorded as such in the audit log and on the version. Every step is audited; every read and write
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

  /** Approvals are only ever given by non-authors (approve refuses authors), so any approval is someone else's. */
  function missing(row: PolicyRow, approvals: ApprovalRow[], worksCouncilRequired: boolean): string[] {
    const valid = approvals.filter((a) => !row.authors.includes(a.userId));
    if (worksCouncilRequired) return valid.some((a) => a.asWorksCouncil) ? [] : ['the approval of a works-council member who did not write this version'];
    return valid.length > 0 ? [] : ['the approval of an admin or works-council member who did not write this version'];
  }

  /** The same content as the version in force: publishing it would ask everyone again for nothing. */
  function unchanged(row: PolicyRow, current: PolicyRow | undefined): boolean {
    return current !== undefined && current.version !== row.version && diffPolicies(current, row).changes.length === 0;
  }

  function nothingToPublish(current: PolicyRow): AppError {
    return new AppError('conflict', `Nothing changed from v${current.version}: there is nothing to publish. Change the draft first.`, [
      { path: 'content', problem: `the same as v${current.version}, in force now` },
    ]);
  }

  async function nameOf(userId: string): Promise<string> {
    const person = await directory.findUser(userId);
    return person?.name ?? 'someone no longer in the directory';
  }

  async function view(user: SignedInUser, row: PolicyRow): Promise<PolicyVersionView> {
    const [approvals, org, current] = await Promise.all([
      store.approvals(user.orgId, row.version),
      directory.findOrg(user.orgId),
      store.currentPolicy(user.orgId),
    ]);
    const worksCouncilRequired = org?.worksCouncilRequired ?? false;
    const lacking = row.state === 'in_review' ? missing(row, approvals, worksCouncilRequired) : [];
    // A version not yet published is compared with the one in force; a published one with its predecessor.
    const open = row.state === 'draft' || row.state === 'in_review';
    const base = open ? current : await previousPublished(user.orgId, row.version);
    return {
      version: row.version,
      state: row.state,
      hash: row.hash,
      content: row.content,
      createdBy: row.createdBy,
      authors: await Promise.all(row.authors.map(async (userId) => ({ userId, name: await nameOf(userId) }))),
      createdAt: row.createdAt.toISOString(),
      publishedAt: row.publishedAt ? row.publishedAt.toISOString() : null,
      approvals: await Promise.all(
        approvals.map(async (a) => ({
          userId: a.userId,
          name: await nameOf(a.userId),
          asAdmin: a.asAdmin,
          asWorksCouncil: a.asWorksCouncil,
          approvedAt: a.approvedAt.toISOString(),
        })),
      ),
      worksCouncilRequired,
      missingApprovals: lacking,
      mayPublishWithoutReview: lacking.length > 0 && user.role === 'admin' && (await soleReviewerRefusal(user, worksCouncilRequired)) === undefined,
      publishedWithoutReview: row.publishedWithoutReview,
      nothingChanged: open && unchanged(row, current),
      conflicts: purposeConflicts(row.content),
      diff: diffPolicies(base, row),
    };
  }

  /**
   * Why `user` may not publish without review, in words, or undefined when they are the
   * organisation's only possible reviewer.
   */
  async function soleReviewerRefusal(user: SignedInUser, worksCouncilRequired: boolean): Promise<string | undefined> {
    if (worksCouncilRequired) return 'works-council approval is required, and a works-council member must approve every version';
    const others = (await directory.policyReviewers(user.orgId)).filter((p) => p.id !== user.userId);
    if (others.some((p) => p.role === 'admin')) return 'another admin can review it, so they must approve it';
    if (others.length > 0) return 'a works-council member can review it, so they must approve it';
    return undefined;
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
        publishedWithoutReview: r.publishedWithoutReview,
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
        await store.insertPolicy({
          orgId: user.orgId,
          version,
          content,
          hash: policyHash(content),
          state: 'draft',
          createdBy: user.userId,
          authors: [user.userId],
        });
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
      if (row.state !== 'draft' || !(await store.updateDraft(user.orgId, version, content, policyHash(content), user.userId))) throw wrongState(row, 'a draft');
      await record(user, 'policy.draft_updated', { version, hash: policyHash(content) });
      return view(user, await find(user, version));
    },

    async submit(user: SignedInUser, version: number): Promise<PolicyVersionView> {
      const row = await find(user, version);
      const current = await store.currentPolicy(user.orgId);
      if (row.state === 'draft' && current && unchanged(row, current)) throw nothingToPublish(current);
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
      if (row.authors.includes(user.userId)) {
        throw new AppError('forbidden', 'You created or edited this version, so you cannot approve it: someone else must', [
          { path: 'approvals', problem: 'an author cannot approve their own version' },
        ]);
      }
      await store.addApproval({ orgId: user.orgId, version, userId: user.userId, asAdmin, asWorksCouncil, approvedAt: now() });
      await record(user, 'policy.approved', { version, hash: row.hash, asAdmin, asWorksCouncil });
      return view(user, row);
    },

    /**
     * `withoutReview`: the admin confirmed that nobody else reviewed the version; honoured only when
     * approvals are missing and nobody else could give them (see soleReviewerRefusal).
     */
    async publish(user: SignedInUser, version: number, options: { withoutReview?: boolean } = {}): Promise<PolicyVersionView> {
      if (user.role !== 'admin') throw new AppError('forbidden', 'Only an admin may publish a policy version');
      const row = await find(user, version);
      if (row.state !== 'in_review') throw wrongState(row, 'in review and approved');
      const [approvals, org, previous] = await Promise.all([
        store.approvals(user.orgId, version),
        directory.findOrg(user.orgId),
        store.currentPolicy(user.orgId),
      ]);
      if (previous && unchanged(row, previous)) throw nothingToPublish(previous);
      const lacking = missing(row, approvals, org?.worksCouncilRequired ?? false);
      const withoutReview = lacking.length > 0 && options.withoutReview === true;
      if (withoutReview) {
        const refusal = await soleReviewerRefusal(user, org?.worksCouncilRequired ?? false);
        if (refusal) {
          throw new AppError('conflict', `It cannot be published without review: ${refusal}`, [
            { path: 'approvals', problem: `needs ${lacking.join(' and ')}` },
          ]);
        }
      } else if (lacking.length > 0) {
        throw new AppError('conflict', `Not approved yet: it still needs ${lacking.join(' and ')}`, [
          { path: 'approvals', problem: `needs ${lacking.join(' and ')}` },
        ]);
      }
      if (previous && previous.version > version) throw wrongState(previous, 'older than the draft');
      if (!(await store.publishReviewed(user.orgId, version, now(), withoutReview))) throw wrongState(row, 'in review');
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
          withoutReview,
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
      const [rows, imports] = await Promise.all([store.consentHistory(user.orgId, userId), store.importGrantsOfUser(user.orgId, userId)]);
      await audit.record({
        orgId: user.orgId,
        actorType: 'user',
        actorId: user.userId,
        action: 'consent.history_viewed',
        subjectUserIds: [userId],
        details: { records: rows.length, imports: imports.length },
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
        /** Consents for imported history of a past period, each with its receipt id (the grant's id). */
        imports: imports.map((r) => ({ ...toImportGrant(r), deviceId: r.deviceId })),
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
