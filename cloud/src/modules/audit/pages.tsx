import { FormProblems, whenIn } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { SignedInUser } from '../../platform/env';
import type { FieldProblem } from '@icarus/shared';
import { actionWords, detailWords, KNOWN_ACTIONS } from './actions';
import type { Checkpoint } from './checkpoints';
import type { ChainVerification, RecordedFullVerification, SinceCheckpointVerification } from './service';
import type { AuditEventView } from './viewer';

export const AUDIT_PAGE = '/audit';

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

/**
 * The chain as a report states it without walking it all: the walk done now from the newest
 * valid signed checkpoint to the head, and the newest recorded walk of the whole chain (the
 * nightly job), with the link to walk it all now.
 */
export function ChainStatement(props: { since: SinceCheckpointVerification; lastFull: RecordedFullVerification | null; verifyPath: string }) {
  const { since, lastFull } = props;
  const from = since.checkpoint
    ? `since checkpoint #${since.checkpoint.seq} (signed ${since.checkpoint.at})`
    : 'from the first entry (no checkpoint signed yet)';
  return (
    <section aria-label="Audit chain">
      {since.ok ? (
        <p class="ok" role="status">
          Audit chain verified now {from}: {since.walked} entries walked, every hash and link intact; {since.entries} entries in all.
        </p>
      ) : (
        <div class="bad" role="alert">
          <p>Audit chain BROKEN, found now {from}:</p>
          <ul>
            {since.problems.map((p) => (
              <li>{problemText(p)}</li>
            ))}
          </ul>
        </div>
      )}
      {lastFull === null ? (
        <p role="status">Whole chain last verified: never yet (the nightly check has not run since the log began).</p>
      ) : lastFull.ok ? (
        <p class="ok" role="status">
          Whole chain last verified {lastFull.at}: OK, {lastFull.entries} entries.
        </p>
      ) : (
        <div class="bad" role="alert">
          <p>
            Whole chain last verified {lastFull.at}: BROKEN after {lastFull.checked} good entries of {lastFull.entries}, {lastFull.problemCount}{' '}
            {lastFull.problemCount === 1 ? 'finding' : 'findings'}:
          </p>
          <ul>
            {lastFull.problems.map((p) => (
              <li>{problemText(p)}</li>
            ))}
          </ul>
        </div>
      )}
      <p>
        The walk since the checkpoint proves that the checkpoint's entry still has the hash and count it signed and that every entry after it hashes and links;
        what came before the checkpoint was proved when it was signed and by the nightly walk of the whole chain, which recomputes every hash from the first
        entry. <a href={props.verifyPath}>Verify the whole chain now</a> (and against a checkpoint you kept).
      </p>
    </section>
  );
}

/** The newest checkpoint, to copy and keep outside, and a field to verify against one kept before. */
function CheckpointPanel(props: { checkpoint: Checkpoint | null; supplied: string }) {
  return (
    <section aria-label="Checkpoints">
      {props.checkpoint ? (
        <details>
          {/* Nothing interactive inside the summary: it is itself the control that opens the details. */}
          <summary>
            Latest signed checkpoint: entry {props.checkpoint.seq}, {props.checkpoint.size} entries, signed {props.checkpoint.at} (key{' '}
            <code>{props.checkpoint.kid}</code>)
          </summary>
          <p>
            Its public key is at <a href="/v1/audit-keys">/v1/audit-keys</a>. Keep this outside the system; paste it below later to check that nothing before it
            was deleted or re-chained.
          </p>
          <textarea readonly rows={4} aria-label="Checkpoint JWS">
            {props.checkpoint.jws}
          </textarea>
        </details>
      ) : null}
      <form method="get" action={`${AUDIT_PAGE}/verify`} aria-label="Verify against a checkpoint">
        <label>
          Checkpoint you kept
          <input name="checkpoint" value={props.supplied} placeholder="eyJhbGciOiJFZERTQSIs…" />
        </label>
        <button type="submit">Verify against it</button>
      </form>
    </section>
  );
}

export type Names = ReadonlyMap<string, { name: string; role: string }>;

/** Who acted, as a person reads it: a name and role, "a device", or the system part that did it. */
function actorText(e: AuditEventView, names: Names): string {
  if (e.actorType === 'user') {
    const who = names.get(e.actorId);
    return who ? `${who.name} (${who.role})` : 'a former member';
  }
  if (e.actorType === 'device') {
    const deviceName = typeof e.details['deviceName'] === 'string' ? ` “${e.details['deviceName']}”` : '';
    return `Device${deviceName} ${e.actorId.slice(0, 8)}`;
  }
  return `The system (${e.actorId})`;
}

/** One line per event in plain words: who did what, and the few details that matter. */
export function summaryOf(e: AuditEventView, names: Names): string {
  const extra = detailWords(e.details);
  return `${actorText(e, names)} ${actionWords(e.action).did}${extra.length > 0 ? `, ${extra.join(', ')}` : ''}.`;
}

function PeopleCell(props: { event: AuditEventView; names: Names }) {
  const ids = props.event.subjectUserIds;
  if (ids.length === 0) return <span class="muted">none</span>;
  // A report view names hundreds of people: a count and a link, not the list.
  if (ids.length > 3) return <a href={`${AUDIT_PAGE}/events/${props.event.seq}`}>{`${ids.length.toLocaleString('en')} people`}</a>;
  return (
    <>
      {ids.map((id, i) => (
        <>
          {i > 0 ? ', ' : ''}
          <a href={`${AUDIT_PAGE}?subject=${id}`}>{props.names.get(id)?.name ?? 'a former member'}</a>
        </>
      ))}
    </>
  );
}

function DetailList(props: { details: Record<string, unknown> }) {
  const entries = Object.entries(props.details);
  if (entries.length === 0) return <p class="muted">No details.</p>;
  return (
    <dl class="details">
      {entries.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>
            <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
          </dd>
        </>
      ))}
    </dl>
  );
}

export const AUDIT_FIELD_LABELS: Record<string, string> = {
  person: 'Person',
  subject: 'Person',
  actor: 'Done by',
  action: 'Action',
  from: 'From',
  to: 'To',
  before: 'Page',
};

const ACTION_GROUPS: [string, string][] = [
  ['report.*', 'any report view or export'],
  ['admin.*', 'any admin view'],
  ['device.*', 'anything about devices'],
  ['consent.*', 'any consent decision'],
  ['policy.*', 'any policy step'],
  ['rights.*', 'any data-rights request'],
  ['auth.*', 'any sign-in'],
  ['audit.*', 'any read of this log'],
];

export function AuditPage(props: {
  user: SignedInUser;
  query: Record<string, string>;
  events: AuditEventView[];
  nextBefore: number | null;
  names: Names;
  timeZone: string;
  choices?: { field: string; people: { id: string; name: string; email: string }[] } | undefined;
  /** The filter as the viewer ran it (ids and instants): the CSV export asks the API for the same entries. */
  resolved?: Record<string, string | number | undefined> | undefined;
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
}) {
  const q = props.query;
  const params = (extra: Record<string, string | undefined>) => {
    const merged: Record<string, string | undefined> = { ...q, ...extra };
    return new URLSearchParams(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')).toString();
  };
  const exportQuery = new URLSearchParams(
    Object.entries(props.resolved ?? {}).flatMap(([k, v]) => (v === undefined || k === 'before' || k === 'limit' ? [] : [[k, String(v)]])),
  ).toString();
  const personValue = q['person'] ?? (q['subject'] ? (props.names.get(q['subject'])?.name ?? '') : '');
  return (
    <Layout title="Audit log" user={props.user} current={AUDIT_PAGE}>
      <p>
        {`Times are in ${props.timeZone}. `}
        <a href={`${AUDIT_PAGE}/verify`}>Verify the whole chain</a>
      </p>
      <FormProblems message={props.error} fields={props.fields} labels={AUDIT_FIELD_LABELS} />
      {props.choices ? (
        <ul aria-label="People who match">
          {props.choices.people.map((p) => (
            <li>
              <a
                href={`${AUDIT_PAGE}?${params(props.choices?.field === 'person' ? { person: undefined, subject: p.id } : { actor: p.email })}`}
              >{`${p.name} <${p.email}>`}</a>
            </li>
          ))}
        </ul>
      ) : null}
      <form method="get" action={AUDIT_PAGE} class="filters" aria-label="Filter">
        <label>
          Person (whose data)
          <input name="person" value={personValue} placeholder="name or email" />
        </label>
        <label>
          Done by
          <input name="actor" value={q['actor'] ?? ''} placeholder="name, email or device id" />
        </label>
        <label>
          Action
          <select name="action">
            <option value="">any action</option>
            {ACTION_GROUPS.map(([code, label]) => (
              <option value={code} selected={q['action'] === code}>
                {label}
              </option>
            ))}
            {KNOWN_ACTIONS.map((code) => (
              <option value={code} selected={q['action'] === code}>
                {actionWords(code).did}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" name="from" value={q['from'] ?? ''} />
        </label>
        <label>
          To
          <input type="date" name="to" value={q['to'] ?? ''} />
        </label>
        <button type="submit">Filter</button>
        <a href={AUDIT_PAGE}>Clear</a>
      </form>
      <p>
        <a href={`/api/audit/export.csv?${exportQuery}`}>Export these entries as CSV</a> ·{' '}
        <a href={`/api/audit/export.csv?${exportQuery}${exportQuery ? '&' : ''}bom=1`}>as CSV for Excel</a>
      </p>
      {props.events.length === 0 ? (
        <p role="status">No entries match.</p>
      ) : (
        <div class="table-wrap">
          <table class="cards" aria-label="Audit entries">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What happened</th>
                <th scope="col">People</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {props.events.map((e) => (
                <tr>
                  <td data-label="When">{whenIn(e.at, props.timeZone)}</td>
                  <td data-label="What happened">{summaryOf(e, props.names)}</td>
                  <td data-label="People">
                    <PeopleCell event={e} names={props.names} />
                  </td>
                  <td data-label="Details">
                    <details>
                      <summary>{`Entry ${e.seq}`}</summary>
                      <p>
                        <code>{e.action}</code>
                      </p>
                      <DetailList details={e.details} />
                      <p>
                        <a href={`${AUDIT_PAGE}/events/${e.seq}`}>The whole entry</a>
                      </p>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Audit pages">
        {q['before'] ? <a href={`${AUDIT_PAGE}?${params({ before: undefined })}`}>Newest entries</a> : null}
        {props.nextBefore !== null ? (
          <a href={`${AUDIT_PAGE}?${params({ before: String(props.nextBefore) })}`}>Older entries</a>
        ) : (
          <span>No older entries.</span>
        )}
      </nav>
    </Layout>
  );
}

/** One entry in full: the people it names (all of them), every detail, and its place in the chain. */
export function AuditEventPage(props: { user: SignedInUser; event: AuditEventView; names: Names; timeZone: string }) {
  const e = props.event;
  return (
    <Layout title={`Audit entry ${e.seq}`} user={props.user} current={AUDIT_PAGE}>
      <p>
        <a href={AUDIT_PAGE}>The audit log</a>
      </p>
      <p>{summaryOf(e, props.names)}</p>
      <dl class="facts">
        <dt>When</dt>
        <dd>{whenIn(e.at, props.timeZone)}</dd>
        <dt>Action code</dt>
        <dd>
          <code>{e.action}</code>
        </dd>
        <dt>Done by</dt>
        <dd>
          <a href={`${AUDIT_PAGE}?actor=${encodeURIComponent(e.actorId)}`}>{actorText(e, props.names)}</a>
        </dd>
        <dt>Hash</dt>
        <dd>
          <code>{e.hash}</code>
        </dd>
      </dl>
      <h2>Details</h2>
      <DetailList details={e.details} />
      <h2>{`People whose data it concerned (${e.subjectUserIds.length.toLocaleString('en')})`}</h2>
      {e.subjectUserIds.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul class="columns">
          {e.subjectUserIds.map((id) => (
            <li>
              <a href={`${AUDIT_PAGE}?subject=${id}`}>{props.names.get(id)?.name ?? 'a former member'}</a>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

export function ChainPage(props: {
  user: SignedInUser;
  chain: ChainVerification | null;
  checkpoint: Checkpoint | null;
  supplied: string;
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
}) {
  return (
    <Layout title="Audit chain" width="reading" user={props.user} current={AUDIT_PAGE}>
      {props.chain ? <Chain chain={props.chain} /> : null}
      <FormProblems message={props.error} fields={props.fields} labels={{ checkpoint: 'Checkpoint you kept' }} />
      <CheckpointPanel checkpoint={props.checkpoint} supplied={props.supplied} />
      <p>
        <a href={AUDIT_PAGE}>The audit log</a>
      </p>
    </Layout>
  );
}
