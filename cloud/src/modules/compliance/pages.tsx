import { ALL_SCOPES } from '@icarus/shared';
import type { SignedInUser } from '../../platform/env';
import { when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import { ChainStatement } from '../audit';
import type { ComplianceReport } from './report';

export function CompliancePage(props: { user: SignedInUser; report: ComplianceReport }) {
  const r = props.report;
  const qs = `from=${r.period.from}&to=${r.period.to}`;
  return (
    <Layout title={`Compliance report ${r.period.from} to ${r.period.to}`} user={props.user} current="/audit/compliance">
      <form method="get" action="/audit/compliance" aria-label="Period">
        <label>
          From <input name="from" value={r.period.from} />
        </label>
        <label>
          To <input name="to" value={r.period.to} />
        </label>
        <button type="submit">Show</button>
      </form>
      <p class="noprint">
        <a href={`/api/compliance/report.csv?${qs}`}>Download CSV</a> · <a href={`/api/compliance/report.csv?${qs}${qs ? '&' : ''}bom=1`}>CSV for Excel</a> ·
        print this page for a paper copy. <a href="/audit/compliance/pack">The compliance pack</a> (DPIA, record of processing, employee notice, works-agreement
        annexes) for the policy in force.
      </p>
      <p>
        Generated {when(r.generatedAt)}. Current policy: {r.currentPolicyVersion ? `v${r.currentPolicyVersion}` : 'none'}.
      </p>
      <ChainStatement since={r.chain.sinceCheckpoint} lastFull={r.chain.lastFull} verifyPath={r.chain.verifyPath} />
      {r.checkpoint ? (
        <section aria-label="Audit checkpoint">
          <h2>Audit checkpoint</h2>
          <p>
            Entry {r.checkpoint.seq} ({r.checkpoint.size} entries), hash <code>{r.checkpoint.hash}</code>, signed {r.checkpoint.at} with key{' '}
            <code>{r.checkpoint.kid}</code> (public key at <code>{r.checkpointKeys}</code>). Keep it with this report: verifying against it later finds entries
            deleted or re-chained since.
          </p>
          <p>
            <code>{r.checkpoint.jws}</code>
          </p>
        </section>
      ) : null}
      <h2>Consent coverage per team and policy version</h2>
      <div class="table-wrap">
        <table aria-label="Consent coverage">
          <thead>
            <tr>
              <th>Team</th>
              <th>Policy</th>
              <th>People</th>
              <th>Granted</th>
              <th>Declined</th>
              <th>Withdrawn</th>
              <th>No decision</th>
              <th>Pending re-consent</th>
              {ALL_SCOPES.map((s) => (
                <th>{s}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {r.coverage.map((c) => (
              <tr>
                <td>{c.teamName}</td>
                <td>{c.policyVersion ? `v${c.policyVersion}` : '—'}</td>
                <td>{c.people}</td>
                <td>{c.granted}</td>
                <td>{c.declined}</td>
                <td>{c.withdrawn}</td>
                <td>{c.noDecision}</td>
                <td>{c.pendingReconsent}</td>
                {ALL_SCOPES.map((s) => (
                  <td>{c.byScope[s]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Withdrawals</h2>
      {r.withdrawals.length === 0 ? (
        <p>None in this period.</p>
      ) : (
        <ul>
          {r.withdrawals.map((w) => (
            <li>
              {when(w.at)}: {w.name}, still granted: {w.remaining.join(', ') || 'nothing'}
            </li>
          ))}
        </ul>
      )}
      <h2>Erasures</h2>
      {r.erasures.length === 0 ? (
        <p>None in this period.</p>
      ) : (
        <ul>
          {r.erasures.map((e) => (
            <li>
              {when(e.at)}: {e.action} for {e.subjectUserIds.join(', ')}
            </li>
          ))}
        </ul>
      )}
      <h2>Access to personal data</h2>
      <div class="table-wrap">
        <table aria-label="Access to personal data">
          <thead>
            <tr>
              <th>Action</th>
              <th>Events</th>
              <th>By (people)</th>
              <th>About (people)</th>
            </tr>
          </thead>
          <tbody>
            {r.personalDataAccess.map((a) => (
              <tr>
                <td>{a.action}</td>
                <td>{a.events}</td>
                <td>{a.actors}</td>
                <td>{a.people}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
