import { ALL_SCOPES, type Scope } from '@icarus/shared';
import type { ComplianceReport } from './report';
import { csvField } from '../../platform/http/csv';

/** What each row of the one table is: its `section` column says so, and only that section's columns are filled. */
export const SECTIONS = ['report', 'consent_coverage', 'withdrawal', 'erasure', 'personal_data_access', 'audit_chain', 'audit_checkpoint'] as const;

const COLUMNS = [
  'section',
  // report: the period and the policy in force
  'period_from',
  'period_to',
  'generated_at',
  'current_policy_version',
  // consent_coverage: one row per team
  'team',
  'policy_version',
  'people',
  'granted',
  'declined',
  'withdrawn',
  'no_decision',
  'pending_reconsent',
  ...ALL_SCOPES.map((s) => `granted_${s}` as const),
  // withdrawal, erasure, personal_data_access
  'at',
  'person',
  'user_id',
  'device_id',
  'scopes_remaining',
  'action',
  'subject_user_ids',
  'actor_id',
  'events',
  'actors',
  // audit_chain: one row per walk (since_checkpoint: done now; whole_chain: the last nightly one)
  'walk',
  'verified_at',
  'from_checkpoint_seq',
  'chain_ok',
  'entries',
  'walked',
  'checked',
  'problems',
  // audit_checkpoint: keep it; its public key is at checkpoint_keys
  'seq',
  'size',
  'hash',
  'signed_at',
  'key_id',
  'jws',
  'checkpoint_keys',
] as const;
type Column = (typeof COLUMNS)[number];
type Row = Partial<Record<Column, string | number | null>>;

/** Each finding as its kind and the entry it names ("hash_mismatch:12 truncated:40"). */
const problemList = (problems: ComplianceReport['chain']['sinceCheckpoint']['problems']) =>
  problems.map((p) => `${p.kind}:${'seq' in p ? p.seq : p.checkpointSeq}`).join(' ');

const byScope = (counts: Record<Scope, number>): Row => Object.fromEntries(ALL_SCOPES.map((s) => [`granted_${s}`, counts[s]]));

/**
 * The compliance report as one CSV table (RFC 4180, CRLF): one header row, then every section's
 * rows, each naming its section in the first column, so a spreadsheet filters by it and a
 * strict parser reads it as it reads any table.
 */
export function complianceCsv(r: ComplianceReport): string {
  const rows: [(typeof SECTIONS)[number], Row][] = [
    ['report', { period_from: r.period.from, period_to: r.period.to, generated_at: r.generatedAt, current_policy_version: r.currentPolicyVersion }],
    ...r.coverage.map((c): [(typeof SECTIONS)[number], Row] => [
      'consent_coverage',
      {
        team: c.teamName,
        policy_version: c.policyVersion,
        people: c.people,
        granted: c.granted,
        declined: c.declined,
        withdrawn: c.withdrawn,
        no_decision: c.noDecision,
        pending_reconsent: c.pendingReconsent,
        ...byScope(c.byScope),
      },
    ]),
    ...r.withdrawals.map((w): [(typeof SECTIONS)[number], Row] => [
      'withdrawal',
      { at: w.at, person: w.name, user_id: w.userId, device_id: w.deviceId, scopes_remaining: w.remaining.join(' ') },
    ]),
    ...r.erasures.map((e): [(typeof SECTIONS)[number], Row] => [
      'erasure',
      { at: e.at, action: e.action, subject_user_ids: e.subjectUserIds.join(' '), actor_id: e.actorId },
    ]),
    ...r.personalDataAccess.map((a): [(typeof SECTIONS)[number], Row] => [
      'personal_data_access',
      { action: a.action, events: a.events, actors: a.actors, people: a.people },
    ]),
    [
      'audit_chain',
      {
        walk: 'since_checkpoint',
        verified_at: r.generatedAt,
        from_checkpoint_seq: r.chain.sinceCheckpoint.checkpoint?.seq ?? null,
        chain_ok: r.chain.sinceCheckpoint.ok ? 'yes' : 'no',
        entries: r.chain.sinceCheckpoint.entries,
        walked: r.chain.sinceCheckpoint.walked,
        problems: problemList(r.chain.sinceCheckpoint.problems),
      },
    ],
    [
      'audit_chain',
      r.chain.lastFull
        ? {
            walk: 'whole_chain',
            verified_at: r.chain.lastFull.at,
            chain_ok: r.chain.lastFull.ok ? 'yes' : 'no',
            entries: r.chain.lastFull.entries,
            walked: r.chain.lastFull.entries,
            checked: r.chain.lastFull.checked,
            problems: problemList(r.chain.lastFull.problems),
          }
        : // Never yet: no time, no verdict.
          { walk: 'whole_chain' },
    ],
    ...(r.checkpoint
      ? [
          [
            'audit_checkpoint',
            {
              seq: r.checkpoint.seq,
              size: r.checkpoint.size,
              hash: r.checkpoint.hash,
              signed_at: r.checkpoint.at,
              key_id: r.checkpoint.kid,
              jws: r.checkpoint.jws,
              checkpoint_keys: r.checkpointKeys,
            },
          ] satisfies [(typeof SECTIONS)[number], Row],
        ]
      : []),
  ];
  const cell = (v: string | number | null | undefined) => (v === null || v === undefined ? '' : typeof v === 'number' ? String(v) : csvField(v));
  const lines = [COLUMNS.join(','), ...rows.map(([section, row]) => COLUMNS.map((c) => (c === 'section' ? section : cell(row[c]))).join(','))];
  return lines.join('\r\n') + '\r\n';
}
