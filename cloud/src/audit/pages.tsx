import { AdminLayout, Problems, when } from '../admin/layout';
import type { SignedInUser } from '../env';
import type { FieldProblem } from '@icarus/shared';
import type { ComplianceReport } from './compliance-report';
import type { ChainVerification } from './service';
import type { AuditEventView } from './viewer';

function Chain(props: { chain: ChainVerification }) {
  const c = props.chain;
  return c.ok ? (
    <p class="ok" role="status">Audit chain verified: {c.checked} entries, every hash and link intact (last hash <code>{c.lastHash.slice(0, 16)}…</code>).</p>
  ) : (
    <p class="bad" role="alert">Audit chain BROKEN at entry {c.brokenAt?.seq} ({c.brokenAt?.reason.replace('_', ' ')}) after {c.checked} good entries.</p>
  );
}

export function AuditPage(props: {
  user: SignedInUser;
  query: Record<string, string>;
  events: AuditEventView[];
  nextBefore: number | null;
  chain: ChainVerification;
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
}) {
  const q = props.query;
  const params = (extra: Record<string, string>) => new URLSearchParams(Object.entries({ ...q, ...extra }).filter(([k, v]) => v !== '' && k !== 'before')).toString();
  const field = (name: string, label: string, placeholder: string) => (
    <label>
      {label}
      <input name={name} value={q[name] ?? ''} placeholder={placeholder} />
    </label>
  );
  return (
    <AdminLayout title="Audit log" user={props.user} current="/audit">
      <Chain chain={props.chain} />
      <Problems message={props.error} fields={props.fields} />
      <form method="get" action="/audit" aria-label="Filter">
        {field('actor', 'Actor id', 'user, device or system id')}
        {field('action', 'Action', 'e.g. policy.published or report.*')}
        {field('subject', 'Person (id)', 'whose data')}
        {field('from', 'From', 'YYYY-MM-DD')}
        {field('to', 'To', 'YYYY-MM-DD')}
        <button type="submit">Filter</button>
      </form>
      <p>
        <a href={`/api/audit/export.csv?${params({})}`}>Export these entries as CSV</a>
      </p>
      <table>
        <thead><tr><th>#</th><th>When</th><th>Actor</th><th>Action</th><th>People</th><th>Details</th></tr></thead>
        <tbody>
          {props.events.map((e) => (
            <tr>
              <td>{e.seq}</td>
              <td>{when(e.at)}</td>
              <td>{e.actorType} <code>{e.actorId}</code></td>
              <td>{e.action}</td>
              <td>{e.subjectUserIds.map((id) => <div><a href={`/audit?subject=${id}`}><code>{id}</code></a></div>)}</td>
              <td><code>{JSON.stringify(e.details)}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.nextBefore !== null ? <a href={`/audit?${params({})}&before=${props.nextBefore}`}>Older entries</a> : <p>No older entries.</p>}
    </AdminLayout>
  );
}

export function CompliancePage(props: { user: SignedInUser; report: ComplianceReport }) {
  const r = props.report;
  const qs = `from=${r.period.from}&to=${r.period.to}`;
  return (
    <AdminLayout title={`Compliance report ${r.period.from} to ${r.period.to}`} user={props.user} current="/audit/compliance">
      <form method="get" action="/audit/compliance" aria-label="Period">
        <label>From <input name="from" value={r.period.from} /></label>
        <label>To <input name="to" value={r.period.to} /></label>
        <button type="submit">Show</button>
      </form>
      <p class="noprint">
        <a href={`/api/compliance/report.csv?${qs}`}>Download CSV</a> · print this page for a paper copy.
      </p>
      <p>Generated {when(r.generatedAt)}. Current policy: {r.currentPolicyVersion ? `v${r.currentPolicyVersion}` : 'none'}.</p>
      <Chain chain={r.chain} />
      <h2>Consent coverage per team and policy version</h2>
      <table aria-label="Consent coverage">
        <thead><tr><th>Team</th><th>Policy</th><th>People</th><th>Granted</th><th>Declined</th><th>Withdrawn</th><th>No decision</th><th>Pending re-consent</th><th>app_usage</th><th>idle</th><th>window_titles</th></tr></thead>
        <tbody>
          {r.coverage.map((c) => (
            <tr>
              <td>{c.teamName}</td><td>{c.policyVersion ? `v${c.policyVersion}` : '—'}</td><td>{c.people}</td><td>{c.granted}</td><td>{c.declined}</td><td>{c.withdrawn}</td>
              <td>{c.noDecision}</td><td>{c.pendingReconsent}</td><td>{c.byScope.app_usage}</td><td>{c.byScope.idle}</td><td>{c.byScope.window_titles}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Withdrawals</h2>
      {r.withdrawals.length === 0 ? <p>None in this period.</p> : (
        <ul>{r.withdrawals.map((w) => <li>{when(w.at)}: {w.name}, still granted: {w.remaining.join(', ') || 'nothing'}</li>)}</ul>
      )}
      <h2>Erasures</h2>
      {r.erasures.length === 0 ? <p>None in this period.</p> : (
        <ul>{r.erasures.map((e) => <li>{when(e.at)}: {e.action} for {e.subjectUserIds.join(', ')}</li>)}</ul>
      )}
      <h2>Access to personal data</h2>
      <table aria-label="Access to personal data">
        <thead><tr><th>Action</th><th>Events</th><th>By (people)</th><th>About (people)</th></tr></thead>
        <tbody>{r.personalDataAccess.map((a) => <tr><td>{a.action}</td><td>{a.events}</td><td>{a.actors}</td><td>{a.people}</td></tr>)}</tbody>
      </table>
    </AdminLayout>
  );
}
