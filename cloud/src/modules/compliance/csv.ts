import { ALL_SCOPES } from '@icarus/shared';
import type { ComplianceReport } from './report';
import { csvField as f } from '../../platform/http/csv';

/**
 * The compliance report as one CSV file of titled blocks (coverage, withdrawals, erasures,
 * access to personal data), each with its own header row, separated by a blank line.
 */
export function complianceCsv(r: ComplianceReport): string {
  const lines: string[] = [];
  const block = (title: string, header: string[], rows: (string | number | null)[][]) => {
    if (lines.length > 0) lines.push('');
    lines.push(f(`# ${title}`));
    lines.push(header.join(','));
    for (const row of rows) lines.push(row.map((v) => (v === null ? '' : typeof v === 'number' ? String(v) : f(v))).join(','));
  };
  block(
    `consent coverage ${r.period.from} to ${r.period.to}, current policy v${r.currentPolicyVersion ?? 'none'}`,
    ['team', 'policy_version', 'people', 'granted', 'declined', 'withdrawn', 'no_decision', 'pending_reconsent', ...ALL_SCOPES],
    r.coverage.map((c) => [
      c.teamName,
      c.policyVersion,
      c.people,
      c.granted,
      c.declined,
      c.withdrawn,
      c.noDecision,
      c.pendingReconsent,
      ...ALL_SCOPES.map((s) => c.byScope[s]),
    ]),
  );
  block(
    'withdrawals',
    ['at', 'person', 'user_id', 'device_id', 'scopes_remaining'],
    r.withdrawals.map((w) => [w.at, w.name, w.userId, w.deviceId, w.remaining.join(' ')]),
  );
  block(
    'erasures',
    ['at', 'action', 'subject_user_ids', 'actor_id'],
    r.erasures.map((e) => [e.at, e.action, e.subjectUserIds.join(' '), e.actorId]),
  );
  block(
    'access to personal data',
    ['action', 'events', 'actors', 'people'],
    r.personalDataAccess.map((a) => [a.action, a.events, a.actors, a.people]),
  );
  block(
    'audit chain',
    ['ok', 'entries', 'checked', 'broken_at_seq', 'last_hash', 'problems'],
    [
      [
        r.chain.ok ? 'yes' : 'NO',
        r.chain.entries,
        r.chain.checked,
        r.chain.brokenAt?.seq ?? null,
        r.chain.lastHash,
        r.chain.problems.map((p) => p.kind).join(' '),
      ],
    ],
  );
  block(
    `audit checkpoint (keep this; public key at ${r.checkpointKeys})`,
    ['seq', 'size', 'hash', 'signed_at', 'key_id', 'jws'],
    r.checkpoint ? [[r.checkpoint.seq, r.checkpoint.size, r.checkpoint.hash, r.checkpoint.at, r.checkpoint.kid, r.checkpoint.jws]] : [],
  );
  return lines.join('\r\n') + '\r\n';
}
