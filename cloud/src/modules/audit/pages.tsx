import { Problems, when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { SignedInUser } from '../../platform/env';
import type { FieldProblem } from '@icarus/shared';
import type { Checkpoint } from './checkpoints';
import type { ChainVerification } from './service';
import type { AuditEventView } from './viewer';

/** One finding in words: which kind, where. */
export function problemText(p: ChainVerification['problems'][number]): string {
  switch (p.kind) {
    case 'hash_mismatch':
      return `entry ${p.seq} was changed: its content no longer gives its hash`;
    case 'link_mismatch':
      return `broken link at entry ${p.seq}: the entry before it was removed, or one was put in`;
    case 'truncated':
      return `truncated: the chain ends at ${p.lastSeq === null ? 'no entry' : `entry ${p.lastSeq}`}, before entry ${p.checkpointSeq} that a checkpoint signed`;
    case 'rechained':
      return p.foundHash === null
        ? `re-chained: entry ${p.checkpointSeq}, which a checkpoint signed, is gone while later entries remain`
        : `re-chained: entry ${p.checkpointSeq} has another hash or position than the checkpoint signed`;
    case 'checkpoint_forged':
      return `the stored checkpoint at entry ${p.checkpointSeq} does not verify with the audit key`;
  }
}

export function Chain(props: { chain: ChainVerification }) {
  const c = props.chain;
  const against = c.checkpoints.map((k) => `${k.source === 'supplied' ? 'the checkpoint you gave' : 'the latest checkpoint'} (entry ${k.seq}, signed ${k.at})`);
  return c.ok ? (
    <p class="ok" role="status">
      Audit chain verified: {c.entries} entries, every hash and link intact (last hash <code>{c.lastHash.slice(0, 16)}…</code>)
      {against.length > 0 ? `, and it agrees with ${against.join(' and ')}` : ', no checkpoint signed yet'}.
    </p>
  ) : (
    <div class="bad" role="alert">
      <p>
        Audit chain BROKEN{c.brokenAt ? ` at entry ${c.brokenAt.seq} (${c.brokenAt.reason.replace('_', ' ')}) after ${c.checked} good entries` : ''}
        {against.length > 0 ? `; checked against ${against.join(' and ')}` : ''}:
      </p>
      <ul>
        {c.problems.map((p) => (
          <li>{problemText(p)}</li>
        ))}
      </ul>
    </div>
  );
}

/** The newest checkpoint, to copy and keep outside, and a field to verify against one kept before. */
function CheckpointPanel(props: { checkpoint: Checkpoint | null; supplied: string }) {
  return (
    <section aria-label="Checkpoints">
      {props.checkpoint ? (
        <details>
          <summary>
            Latest signed checkpoint: entry {props.checkpoint.seq}, {props.checkpoint.size} entries, signed {props.checkpoint.at} (key{' '}
            <code>{props.checkpoint.kid}</code>, public key at <a href="/v1/audit-keys">/v1/audit-keys</a>)
          </summary>
          <p>Keep this outside the system; paste it below later to check that nothing before it was deleted or re-chained.</p>
          <textarea readonly rows={4} aria-label="Checkpoint JWS">
            {props.checkpoint.jws}
          </textarea>
        </details>
      ) : null}
      <form method="get" action="/audit" aria-label="Verify against a checkpoint">
        <label>
          Checkpoint you kept
          <input name="checkpoint" value={props.supplied} placeholder="eyJhbGciOiJFZERTQSIs…" />
        </label>
        <button type="submit">Verify against it</button>
      </form>
    </section>
  );
}

export function AuditPage(props: {
  user: SignedInUser;
  query: Record<string, string>;
  events: AuditEventView[];
  nextBefore: number | null;
  chain: ChainVerification | null;
  checkpoint: Checkpoint | null;
  supplied: string;
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
}) {
  const q = props.query;
  const params = (extra: Record<string, string>) =>
    new URLSearchParams(Object.entries({ ...q, ...extra }).filter(([k, v]) => v !== '' && k !== 'before' && k !== 'checkpoint')).toString();
  const field = (name: string, label: string, placeholder: string) => (
    <label>
      {label}
      <input name={name} value={q[name] ?? ''} placeholder={placeholder} />
    </label>
  );
  return (
    <Layout title="Audit log" user={props.user} current="/audit">
      {props.chain ? <Chain chain={props.chain} /> : null}
      <Problems message={props.error} fields={props.fields} />
      <CheckpointPanel checkpoint={props.checkpoint} supplied={props.supplied} />
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
