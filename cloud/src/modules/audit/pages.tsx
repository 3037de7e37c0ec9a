import { Problems, when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { SignedInUser } from '../../platform/env';
import type { FieldProblem } from '@icarus/shared';
import type { ChainVerification } from './service';
import type { AuditEventView } from './viewer';

export function Chain(props: { chain: ChainVerification }) {
  const c = props.chain;
  return c.ok ? (
    <p class="ok" role="status">
      Audit chain verified: {c.checked} entries, every hash and link intact (last hash <code>{c.lastHash.slice(0, 16)}…</code>).
    </p>
  ) : (
    <p class="bad" role="alert">
      Audit chain BROKEN at entry {c.brokenAt?.seq} ({c.brokenAt?.reason.replace('_', ' ')}) after {c.checked} good entries.
    </p>
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
  const params = (extra: Record<string, string>) =>
    new URLSearchParams(Object.entries({ ...q, ...extra }).filter(([k, v]) => v !== '' && k !== 'before')).toString();
  const field = (name: string, label: string, placeholder: string) => (
    <label>
      {label}
      <input name={name} value={q[name] ?? ''} placeholder={placeholder} />
    </label>
  );
  return (
    <Layout title="Audit log" user={props.user} current="/audit">
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
        <thead>
          <tr>
            <th>#</th>
            <th>When</th>
            <th>Actor</th>
            <th>Action</th>
            <th>People</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {props.events.map((e) => (
            <tr>
              <td>{e.seq}</td>
              <td>{when(e.at)}</td>
              <td>
                {e.actorType} <code>{e.actorId}</code>
              </td>
              <td>{e.action}</td>
              <td>
                {e.subjectUserIds.map((id) => (
                  <div>
                    <a href={`/audit?subject=${id}`}>
                      <code>{id}</code>
                    </a>
                  </div>
                ))}
              </td>
              <td>
                <code>{JSON.stringify(e.details)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.nextBefore !== null ? <a href={`/audit?${params({})}&before=${props.nextBefore}`}>Older entries</a> : <p>No older entries.</p>}
    </Layout>
  );
}
