import { and, asc, desc, eq, gte, inArray, isNull, max, ne, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../../platform/db/client';
import { NO_EVENTS, type EventOutbox } from '../../platform/events';
import { consentRecords, importGrants, policies, policyApprovals } from './tables';
import { ALL_SCOPES, perScope, type Scope } from '@icarus/shared';

export type PolicyRow = typeof policies.$inferSelect;
export type ConsentRow = typeof consentRecords.$inferSelect;
export type ApprovalRow = typeof policyApprovals.$inferSelect;
export type ImportGrantRow = typeof importGrants.$inferSelect;
export type PolicyState = PolicyRow['state'];

/** What an import grant's events say: ids, the period and the scopes. */
function importEventData(row: typeof importGrants.$inferInsert) {
  return {
    orgId: row.orgId,
    deviceId: row.deviceId,
    userId: row.userId,
    grantId: row.id,
    source: row.source,
    from: row.fromAt.toISOString(),
    to: row.toAt.toISOString(),
    scopes: row.scopes,
  };
}

/** One group of people (a team, or no team) on one policy version: who decided what, counted. */
export interface CoverageCount {
  teamId: string | null;
  /** The version of their decision in force; null for the people who have made none. */
  policyVersion: number | null;
  people: number;
  granted: number;
  declined: number;
  withdrawn: number;
  noDecision: number;
  pendingReconsent: number;
  byScope: Record<Scope, number>;
}

const uuidArray = (ids: readonly (string | null)[]) => sql`${`{${ids.map((id) => id ?? 'NULL').join(',')}}`}::uuid[]`;

export function createConsentStore(database: Database, events: EventOutbox = NO_EVENTS) {
  const { db } = database;
  return {
    /** A version inserted as published (the first start's, or a system's) is announced with it. */
    async insertPolicy(row: typeof policies.$inferInsert) {
      await events.atomically(database, async (tx) => {
        await tx.db.insert(policies).values(row);
        if (row.state === 'published') {
          const { orgId, version, hash } = row;
          await events.add(tx, {
            name: 'policy.published',
            subject: `${orgId}/policies/${version}`,
            ...(row.publishedAt ? { time: row.publishedAt } : {}),
            data: { orgId, version, hash },
          });
        }
      });
    },

    async currentPolicy(orgId: string): Promise<PolicyRow | undefined> {
      const [row] = await db
        .select()
        .from(policies)
        .where(and(eq(policies.orgId, orgId), eq(policies.state, 'published')))
        .orderBy(desc(policies.version))
        .limit(1);
      return row;
    },

    async policy(orgId: string, version: number): Promise<PolicyRow | undefined> {
      const [row] = await db
        .select()
        .from(policies)
        .where(and(eq(policies.orgId, orgId), eq(policies.version, version)));
      return row;
    },

    /** The highest version number used in the org, drafts included (the next draft takes the one after). */
    async lastVersion(orgId: string): Promise<number> {
      const [row] = await db
        .select({ v: max(policies.version) })
        .from(policies)
        .where(eq(policies.orgId, orgId));
      return row?.v ?? 0;
    },

    async listPolicies(orgId: string): Promise<PolicyRow[]> {
      return db.select().from(policies).where(eq(policies.orgId, orgId)).orderBy(desc(policies.version));
    },

    /** Published and retired versions, oldest first: what devices may have decided on. */
    async publishedPolicies(orgId: string): Promise<PolicyRow[]> {
      return db
        .select()
        .from(policies)
        .where(and(eq(policies.orgId, orgId), inArray(policies.state, ['published', 'retired'])))
        .orderBy(asc(policies.version));
    },

    /** Replaces a draft's content and records its editor; false when the version is not (or no longer) a draft. */
    async updateDraft(orgId: string, version: number, content: PolicyRow['content'], hash: string, editor: string): Promise<boolean> {
      const rows = await db
        .update(policies)
        // The editor joins the authors (once): an author may not approve the version.
        .set({
          content,
          hash,
          authors: sql`case when ${policies.authors} @> ${JSON.stringify([editor])}::jsonb then ${policies.authors} else ${policies.authors} || ${JSON.stringify([editor])}::jsonb end`,
        })
        .where(and(eq(policies.orgId, orgId), eq(policies.version, version), eq(policies.state, 'draft')))
        .returning({ version: policies.version });
      return rows.length === 1;
    },

    /**
     * Moves a version from one state to another, compare-and-set so two admins racing get one
     * winner. Going back to draft clears approvals: they approved other content.
     */
    async moveState(orgId: string, version: number, from: PolicyState, to: PolicyState): Promise<boolean> {
      return db.transaction(async (tx) => {
        const rows = await tx
          .update(policies)
          .set({ state: to })
          .where(and(eq(policies.orgId, orgId), eq(policies.version, version), eq(policies.state, from)))
          .returning({ version: policies.version });
        if (rows.length === 1 && to === 'draft') {
          await tx.delete(policyApprovals).where(and(eq(policyApprovals.orgId, orgId), eq(policyApprovals.version, version)));
        }
        return rows.length === 1;
      });
    },

    /** Publishes a version in review and retires the one it replaces, in one transaction. */
    async publishReviewed(orgId: string, version: number, at: Date, withoutReview = false): Promise<boolean> {
      return database.transaction(async (tx) => {
        const [published] = await tx.db
          .update(policies)
          .set({ state: 'published', publishedAt: at, publishedWithoutReview: withoutReview })
          .where(and(eq(policies.orgId, orgId), eq(policies.version, version), eq(policies.state, 'in_review')))
          .returning({ version: policies.version, hash: policies.hash });
        if (!published) return false;
        await tx.db
          .update(policies)
          .set({ state: 'retired' })
          .where(and(eq(policies.orgId, orgId), eq(policies.state, 'published'), ne(policies.version, version)));
        await events.add(tx, { name: 'policy.published', subject: `${orgId}/policies/${version}`, time: at, data: { orgId, version, hash: published.hash } });
        return true;
      });
    },

    async addApproval(row: typeof policyApprovals.$inferInsert) {
      await db.insert(policyApprovals).values(row).onConflictDoNothing();
    },

    async approvals(orgId: string, version: number): Promise<ApprovalRow[]> {
      return db
        .select()
        .from(policyApprovals)
        .where(and(eq(policyApprovals.orgId, orgId), eq(policyApprovals.version, version)))
        .orderBy(asc(policyApprovals.approvedAt));
    },

    /** Every decision a person made on any device in the org, oldest first: the full history. */
    async consentHistory(orgId: string, userId: string): Promise<ConsentRow[]> {
      return db
        .select()
        .from(consentRecords)
        .where(and(eq(consentRecords.orgId, orgId), eq(consentRecords.userId, userId)))
        .orderBy(asc(consentRecords.effectiveAt));
    },

    /** Appends a decision and closes the one it replaces, in one transaction. */
    async appendConsent(row: typeof consentRecords.$inferInsert) {
      await database.transaction(async (tx) => {
        await tx.db
          .update(consentRecords)
          .set({ supersededAt: row.effectiveAt })
          .where(and(eq(consentRecords.deviceId, row.deviceId), isNull(consentRecords.supersededAt)));
        await tx.db.insert(consentRecords).values(row);
        // A decision made before the device was bound speaks for nobody: nothing to announce.
        if (row.userId) {
          const data = {
            orgId: row.orgId,
            deviceId: row.deviceId,
            userId: row.userId,
            receiptId: row.id,
            policyVersion: row.policyVersion,
            granted: row.granted,
            method: row.method,
          };
          const subject = row.userId;
          const time = row.effectiveAt;
          const name = row.decision === 'withdrawn' ? 'consent.withdrawn' : row.decision === 'declined' ? 'consent.declined' : 'consent.granted';
          await events.add(tx, { name, subject, time, data });
        }
      });
    },

    async latestConsent(deviceId: string): Promise<ConsentRow | undefined> {
      const [row] = await db
        .select()
        .from(consentRecords)
        .where(and(eq(consentRecords.deviceId, deviceId), isNull(consentRecords.supersededAt)))
        .limit(1);
      return row;
    },

    /**
     * Consent coverage counted in SQL: each person's latest decision in force (not superseded,
     * made under a binding still in force) grouped by their team and that decision's policy
     * version, so a view reads a row per group instead of every device's decisions.
     */
    async coverageCounts(
      orgId: string,
      people: readonly { id: string; teamId: string | null }[],
      bindingIds: readonly string[],
      currentVersion: number | null,
    ): Promise<CoverageCount[]> {
      if (people.length === 0) return [];
      const scopes = sql.join(
        ALL_SCOPES.map((s, i) => sql`count(*) filter (where l.granted @> ${JSON.stringify([s])}::jsonb)::int as ${sql.raw(`s${i}`)}`),
        sql`, `,
      );
      const rows = await database.rows<Record<string, unknown>>(sql`
        with people as (select * from unnest(${uuidArray(people.map((p) => p.id))}, ${uuidArray(people.map((p) => p.teamId))}) as p(user_id, team_id)),
        latest as (
          select distinct on (c.user_id) c.user_id, c.decision, c.policy_version, c.granted
          from consent_records c
          where c.org_id = ${orgId} and c.superseded_at is null and c.binding_id = any(${uuidArray(bindingIds)})
          order by c.user_id, c.effective_at desc
        )
        select p.team_id, l.policy_version, count(*)::int as people,
          count(*) filter (where l.decision = 'granted')::int as granted,
          count(*) filter (where l.decision = 'declined')::int as declined,
          count(*) filter (where l.decision = 'withdrawn')::int as withdrawn,
          count(*) filter (where l.user_id is null)::int as no_decision,
          count(*) filter (where l.policy_version < ${currentVersion ?? 0})::int as pending_reconsent,
          ${scopes}
        from people p left join latest l on l.user_id = p.user_id
        group by p.team_id, l.policy_version`);
      const int = (v: unknown) => Number(v ?? 0);
      return rows.map((r) => ({
        teamId: r['team_id'] == null ? null : String(r['team_id']),
        policyVersion: r['policy_version'] == null ? null : int(r['policy_version']),
        people: int(r['people']),
        granted: int(r['granted']),
        declined: int(r['declined']),
        withdrawn: int(r['withdrawn']),
        noDecision: int(r['no_decision']),
        pendingReconsent: int(r['pending_reconsent']),
        byScope: perScope((s) => int(r[`s${ALL_SCOPES.indexOf(s)}`])),
      }));
    },

    /** Each person's latest decision in force (not superseded, made under a binding still in force): a row per person, receipts left out. */
    async latestDecisions(
      orgId: string,
      bindingIds: readonly string[],
    ): Promise<Pick<ConsentRow, 'userId' | 'decision' | 'policyVersion' | 'granted' | 'effectiveAt'>[]> {
      const rows = await database.rows<{
        user_id: string;
        decision: ConsentRow['decision'];
        policy_version: number;
        granted: Scope[];
        effective_at: string | Date;
      }>(sql`
        select distinct on (user_id) user_id, decision, policy_version, granted, effective_at
        from consent_records
        where org_id = ${orgId} and superseded_at is null and user_id is not null and binding_id = any(${uuidArray(bindingIds)})
        order by user_id, effective_at desc`);
      return rows.map((r) => ({
        userId: r.user_id,
        decision: r.decision,
        policyVersion: Number(r.policy_version),
        granted: r.granted,
        effectiveAt: new Date(r.effective_at),
      }));
    },

    /** Withdrawals made in an org since a time, newest first. */
    async withdrawalsSince(orgId: string, since: Date): Promise<ConsentRow[]> {
      return db
        .select()
        .from(consentRecords)
        .where(and(eq(consentRecords.orgId, orgId), eq(consentRecords.decision, 'withdrawn'), gte(consentRecords.effectiveAt, since)))
        .orderBy(desc(consentRecords.effectiveAt));
    },

    /** Records an import grant, announced (`consent.import_granted`) in the same transaction. */
    async insertImportGrant(row: typeof importGrants.$inferInsert): Promise<void> {
      await events.atomically(database, async (tx) => {
        await tx.db.insert(importGrants).values(row);
        await events.add(tx, { name: 'consent.import_granted', subject: row.userId, time: row.decidedAt, data: importEventData(row) });
      });
    },

    async importGrant(id: string): Promise<ImportGrantRow | undefined> {
      const [row] = await db.select().from(importGrants).where(eq(importGrants.id, id));
      return row;
    },

    /** The device's import grants, oldest first. */
    async importGrantsOfDevice(deviceId: string): Promise<ImportGrantRow[]> {
      return db.select().from(importGrants).where(eq(importGrants.deviceId, deviceId)).orderBy(asc(importGrants.decidedAt));
    },

    /** Every import grant a person made in the org, oldest first (their consent history, My data). */
    async importGrantsOfUser(orgId: string, userId: string): Promise<ImportGrantRow[]> {
      return db
        .select()
        .from(importGrants)
        .where(and(eq(importGrants.orgId, orgId), eq(importGrants.userId, userId)))
        .orderBy(asc(importGrants.decidedAt));
    },

    /**
     * Inside a transaction that stores an import batch: true while the grant is not withdrawn,
     * holding its row so a withdrawal waits until that batch is committed (and its erasure then
     * finds the batch's spans). A withdrawal committed first is seen, and nothing is stored.
     */
    async holdImportGrant(tx: Queryable, id: string): Promise<boolean> {
      const rows = await tx.db
        .select({ id: importGrants.id })
        .from(importGrants)
        .where(and(eq(importGrants.id, id), isNull(importGrants.withdrawnAt)))
        .for('share');
      return rows.length > 0;
    },

    /** Marks a grant withdrawn, once: false when it already was (the first withdrawal's receipt stands). */
    async withdrawImportGrant(id: string, at: Date, receiptJws: string): Promise<boolean> {
      return events.atomically(database, async (tx) => {
        const [row] = await tx.db
          .update(importGrants)
          .set({ withdrawnAt: at, withdrawalReceiptJws: receiptJws })
          .where(and(eq(importGrants.id, id), isNull(importGrants.withdrawnAt)))
          .returning();
        if (row) await events.add(tx, { name: 'consent.import_withdrawn', subject: row.userId, time: at, data: importEventData(row) });
        return row !== undefined;
      });
    },

    /** The device's decisions in time order: what was granted from when. */
    async timeline(deviceId: string): Promise<Pick<ConsentRow, 'orgId' | 'effectiveAt' | 'granted' | 'policyVersion' | 'bindingId'>[]> {
      return db
        .select({
          orgId: consentRecords.orgId,
          effectiveAt: consentRecords.effectiveAt,
          granted: consentRecords.granted,
          policyVersion: consentRecords.policyVersion,
          bindingId: consentRecords.bindingId,
        })
        .from(consentRecords)
        .where(eq(consentRecords.deviceId, deviceId))
        .orderBy(asc(consentRecords.effectiveAt));
    },
  };
}
export type ConsentStore = ReturnType<typeof createConsentStore>;
