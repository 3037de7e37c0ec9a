import { Hono, type Context } from 'hono';
import { Scope, scopeInfo } from '@icarus/shared';
import type { AppEnv, SignedInUser, RequireUser } from '../../platform/env';
import { readForm } from '../../platform/http/body';
import { AppError } from '../../platform/errors';
import type { DirectoryService } from '../directory';
import { DataTable, FormProblems, Notice, whenIn } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { OwnSpan, Principal, RightsService, Viewer } from './service';

export const MY_DATA_PAGE = '/me/data';
export const MY_DATA = {
  page: MY_DATA_PAGE,
  erasure: `${MY_DATA_PAGE}/erasure`,
  withdraw: `${MY_DATA_PAGE}/consent/withdraw`,
  withdrawImport: `${MY_DATA_PAGE}/imports/withdraw`,
} as const;

const minutes = (ms: number) => `${Math.round(ms / 600) / 100} min`;

type ConsentView = Awaited<ReturnType<RightsService['consent']>>;

/** "as one of 980 people in a total", or "you individually": how much of the person the view showed. */
export function howSeen(v: Viewer): string {
  return v.people <= 1 ? 'you individually' : `you as one of ${v.people.toLocaleString('en')} people in a total`;
}

function ConsentSection(props: { consent: ConsentView; csrf: string }) {
  const { devices, scopes } = props.consent;
  if (devices.length === 0) {
    return (
      <p>
        No computer records for you, so there is no consent to show. <a href="/me/devices">Pair a computer</a> to start; it asks you before it records anything.
      </p>
    );
  }
  return (
    <DataTable label="My consent" head={['What', 'Why', 'Now', 'Change']} cards>
      {scopes.map((s) => {
        const on = devices.filter((d) => d.granted.includes(s.scope));
        const info = scopeInfo(s.scope);
        return (
          <tr>
            <td data-label="What">{info.label}</td>
            <td data-label="Why">{s.purpose}</td>
            <td data-label="Now">{on.length === 0 ? 'not granted on any computer' : `granted on ${on.map((d) => d.name).join(', ')}`}</td>
            <td data-label="Change">
              {on.length > 0 ? (
                <form method="post" action={MY_DATA.withdraw} class="inline">
                  <input type="hidden" name="_csrf" value={props.csrf} />
                  <input type="hidden" name="scope" value={s.scope} />
                  <button type="submit" class="secondary">{`Withdraw ${info.label.toLowerCase()}`}</button>
                </form>
              ) : null}
            </td>
          </tr>
        );
      })}
    </DataTable>
  );
}

const hours = (ms: number) => `${Math.round(ms / 360_000) / 10} h`;

/** History brought in from another tool: each import's own consent for its past period. */
function ImportsSection(props: { consent: ConsentView; at: (iso: string | null) => string; csrf: string }) {
  const { imports } = props.consent;
  if (imports.length === 0) return <p>You have imported no history from another tool.</p>;
  return (
    <DataTable label="Imported history" head={['From', 'Period covered', 'What', 'Uploaded', 'Decided', 'Now', 'Change']} cards>
      {imports.map((g) => (
        <tr>
          <td data-label="From">{g.source === 'activitywatch' ? 'ActivityWatch' : g.source}</td>
          <td data-label="Period covered">{`${props.at(g.from)} to ${props.at(g.to)}`}</td>
          <td data-label="What">{g.scopes.map((s) => scopeInfo(s).label).join(', ')}</td>
          <td data-label="Uploaded">{`${g.preview.spans} spans, ${hours(g.preview.activeMs)} active, ${g.preview.apps} apps${g.preview.titles ? ', window titles' : ''}`}</td>
          <td data-label="Decided">{props.at(g.decidedAt)}</td>
          <td data-label="Now">{g.withdrawnAt ? `withdrawn ${props.at(g.withdrawnAt)}; this history was erased` : 'kept under this consent'}</td>
          <td data-label="Change">
            {g.withdrawnAt ? null : (
              <form method="post" action={MY_DATA.withdrawImport} class="inline">
                <input type="hidden" name="_csrf" value={props.csrf} />
                <input type="hidden" name="id" value={g.id} />
                <button type="submit" class="secondary">
                  Withdraw and erase this history
                </button>
              </form>
            )}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function MyDataPage(props: {
  user: SignedInUser;
  spans: OwnSpan[];
  viewers: Viewer[];
  consent: ConsentView;
  erasures: Awaited<ReturnType<RightsService['erasures']>>;
  csrf: string;
  timeZone: string;
  info?: string | undefined;
  error?: string | undefined;
  fields?: { path: string; problem: string }[] | undefined;
}) {
  const at = (iso: string | null) => whenIn(iso, props.timeZone);
  return (
    <Layout title="My data" width="reading" user={props.user} current={MY_DATA_PAGE}>
      <Notice kind="info" text={props.info} />
      <FormProblems message={props.error} fields={props.fields} labels={{ scope: 'What to withdraw', confirm: 'Confirmation', id: 'Import' }} />
      <p class="muted">{`Times are in ${props.timeZone}.`}</p>
      <h2>My consent</h2>
      <p>What the computers bound to you may record. Withdrawing stops it on every one of them; to grant again, use the agent on the computer.</p>
      <ConsentSection consent={props.consent} csrf={props.csrf} />
      <h3>Imported history</h3>
      <p>
        History you brought from another tool, each import under its own consent for the period it covers. Withdrawing an import (here, or with{' '}
        <code>icarus-agent withdraw-import</code> on that computer) erases the history it brought in.
      </p>
      <ImportsSection consent={props.consent} at={at} csrf={props.csrf} />
      <p>
        <a href="/me/data/notice">The monitoring notice</a>: what is recorded, who sees it and how long it is kept, to read and acknowledge.
      </p>
      <h2>Who viewed my data</h2>
      {props.viewers.length === 0 ? (
        <p>No manager, admin or auditor has read your data.</p>
      ) : (
        <ul class="viewers">
          {props.viewers.map((v) => (
            <li>
              <strong>{at(v.at)}</strong>
              {`: ${v.actor.name} (${v.actor.role}) ${v.what}${v.view ? `, ${howSeen(v)}` : ''}.`}
            </li>
          ))}
        </ul>
      )}
      <h2>Recorded in the last 24 hours</h2>
      {props.spans.length === 0 ? (
        <p>Nothing recorded.</p>
      ) : (
        <DataTable label="Recorded in the last 24 hours" head={['Start', 'Length', 'Application', 'Title', 'Idle']} numeric={[false, true]} cards>
          {props.spans.map((s) => (
            <tr>
              <td data-label="Start">{at(s.start)}</td>
              <td data-label="Length" class="num">
                {minutes(s.durationMs)}
              </td>
              <td data-label="Application">{s.app ?? ''}</td>
              <td data-label="Title">{s.title ?? ''}</td>
              <td data-label="Idle">{s.idle ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </DataTable>
      )}
      <h2>My computers</h2>
      <p>
        <a href="/me/devices">Pair a computer, or see which computers record as you</a>
      </p>
      <h2>Export</h2>
      <p>
        <a href="/api/me/export?format=json">All my data as JSON</a> · <a href="/api/me/export?format=csv">as CSV</a> ·{' '}
        <a href={'/api/me/export?format=csv&bom=1'}>as CSV for Excel</a>
      </p>
      <h2>Erase</h2>
      <p>Removes every recorded span and your share of team totals. You will be asked to confirm first.</p>
      <p>
        <a class="button danger" href={MY_DATA.erasure}>
          Erase my data…
        </a>
      </p>
      {props.erasures.length > 0 && (
        <ul>
          {props.erasures.map((e) => (
            <li>{`${at(e.requestedAt)}: ${e.state}${e.spansRemoved === null ? '' : `, ${e.spansRemoved} spans removed`}`}</li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

/** The question before erasing, as the agent's screen asks it: what goes, what stays, and a box to tick. */
function ErasureConfirmPage(props: { user: SignedInUser; csrf: string; error?: string | undefined; fields?: { path: string; problem: string }[] | undefined }) {
  return (
    <Layout title="Erase my data?" width="reading" user={props.user} current={MY_DATA_PAGE}>
      <FormProblems message={props.error} fields={props.fields} labels={{ confirm: 'Confirmation', eraseLocal: 'Also wipe my computers' }} />
      <p>This removes every span recorded about you and your share of every team total, on the server. It cannot be undone.</p>
      <p>The audit log keeps that you asked and that it was done (not what was erased). Recording goes on as you consented; withdraw on My data to stop it.</p>
      <form method="post" action={MY_DATA.erasure} aria-label="Confirm erasure">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <p>
          <label class="check">
            <input type="checkbox" name="eraseLocal" value="true" /> Also wipe what my computers still hold and have not sent
          </label>
        </p>
        <p>
          <label class="check">
            <input type="checkbox" name="confirm" value="erase" aria-invalid={props.fields?.some((f) => f.path === 'confirm') ? 'true' : undefined} /> I
            understand my data will be erased and cannot be brought back
          </label>
        </p>
        <button type="submit" class="danger">
          Erase my data
        </button>
        <a class="button secondary" href={MY_DATA_PAGE}>
          Keep my data
        </a>
      </form>
    </Layout>
  );
}

const WITHDRAWN = (label: string, n: number) =>
  n === 0
    ? `${label} was not granted on any of your computers.`
    : `Withdrawn: ${label.toLowerCase()} on ${n === 1 ? 'one computer' : `${n} computers`}. The server refuses it from now on, and each computer stops recording it at its next sync.`;

/** A plain server-rendered page over the same service as /api/me: works without scripts. */
export function rightsPageRoutes(deps: {
  rights: RightsService;
  directory: Pick<DirectoryService, 'findOrg'>;
  requireUser: RequireUser;
  csrfOf: (c: Context<AppEnv>) => Promise<string>;
}) {
  const { rights } = deps;
  const principal = (c: Context<AppEnv>): Principal => {
    const user = c.get('user');
    return { orgId: user.orgId, userId: user.userId, via: 'web', actorType: 'user', actorId: user.userId };
  };

  async function page(c: Context<AppEnv>, messages: { info?: string; error?: string; fields?: { path: string; problem: string }[] } = {}) {
    const who = principal(c);
    const to = new Date();
    const [spans, viewers, erasures, consent, org] = await Promise.all([
      rights.spans(who, { from: new Date(to.getTime() - 86_400_000), to }, 500),
      rights.viewers(who, 100),
      rights.erasures(who),
      rights.consent(who),
      deps.directory.findOrg(who.orgId),
    ]);
    const withdrawn = Scope.safeParse(c.req.query('withdrawn'));
    const done = c.req.query('requested')
      ? 'Your erasure request was received; you will get a confirmation when it is done.'
      : withdrawn.success
        ? WITHDRAWN(scopeInfo(withdrawn.data).label, Number(c.req.query('computers')) || 0)
        : undefined;
    return c.html(
      <MyDataPage
        user={c.get('user')}
        spans={spans}
        viewers={viewers}
        consent={consent}
        erasures={erasures}
        csrf={await deps.csrfOf(c)}
        timeZone={org?.timeZone ?? 'UTC'}
        info={messages.info ?? done}
        error={messages.error}
        fields={messages.fields}
      />,
    );
  }

  return new Hono<AppEnv>()
    .get(MY_DATA_PAGE, deps.requireUser(), async (c) => page(c))
    .get(MY_DATA.erasure, deps.requireUser(), async (c) => c.html(<ErasureConfirmPage user={c.get('user')} csrf={await deps.csrfOf(c)} />))
    .post(MY_DATA.erasure, deps.requireUser(), async (c) => {
      const form = await readForm(c);
      if (form['confirm'] !== 'erase') {
        c.status(400);
        const problem = 'tick the box to confirm that your data is to be erased';
        return c.html(<ErasureConfirmPage user={c.get('user')} csrf={await deps.csrfOf(c)} error={problem} fields={[{ path: 'confirm', problem }]} />);
      }
      await rights.requestErasure(principal(c), form['eraseLocal'] === 'true');
      return c.redirect(`${MY_DATA_PAGE}?requested=1`, 303);
    })
    .post(MY_DATA.withdrawImport, deps.requireUser(), async (c) => {
      const form = await readForm(c);
      const id = typeof form['id'] === 'string' ? form['id'] : '';
      try {
        const { grant, erasedSpans, computer } = await rights.withdrawImport(principal(c), id);
        const there = computer.told
          ? `${computer.name} deletes its own copy when it next syncs.`
          : `${computer.name} was revoked, so it cannot be told: its own copy stays there until you run \`icarus-agent withdraw-import ${grant.id}\` on it.`;
        return page(c, { info: `Your import was withdrawn and its history erased here (${erasedSpans} spans). ${there}` });
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'not_found') throw error;
        c.status(404);
        return page(c, { error: 'no such import of yours', fields: error.fields });
      }
    })
    .post(MY_DATA.withdraw, deps.requireUser(), async (c) => {
      const form = await readForm(c);
      const scope = Scope.safeParse(form['scope']);
      if (!scope.success) {
        c.status(400);
        return page(c, { error: 'choose what to withdraw', fields: [{ path: 'scope', problem: 'choose one of the scopes listed under My consent' }] });
      }
      const changed = await rights.withdrawConsent(principal(c), [scope.data]);
      return c.redirect(`${MY_DATA_PAGE}?withdrawn=${scope.data}&computers=${changed.length}`, 303);
    });
}
