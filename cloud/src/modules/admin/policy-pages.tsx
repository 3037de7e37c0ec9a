import { managerPreview, managersSentence, visibilityOf, type FieldProblem } from '@icarus/shared';
import type { PolicyVersionView } from '../consent';
import type { PolicyDiff } from '../consent';
import type { SignedInUser } from '../../platform/env';
import { ActionButton, Info, Problems, when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import { POLICY_LABELS, type PolicyForm } from './policy-form';

export interface PageMessages {
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
  info?: string | undefined;
}

export interface CouncilSettings {
  required: boolean;
  members: { id: string; name: string; email: string }[];
}

/** Who must approve: the works-council setting and its members, changed by admins only. */
function CouncilSection(props: { csrf: string; council: CouncilSettings; admin: boolean }) {
  const { council } = props;
  return (
    <section aria-labelledby="council-heading">
      <h2 id="council-heading">Who approves</h2>
      <p>
        Nobody approves a version they created or edited. {council.required ? 'Works-council approval is on: ' : 'Works-council approval is off: '}
        {council.required
          ? 'a works-council member who did not write the version must approve it before an admin publishes it.'
          : 'an admin or a works-council member who did not write the version must approve it.'}
      </p>
      <p>
        Works-council members: {council.members.length > 0 ? council.members.map((m) => m.name).join(', ') : 'none yet'}
        {props.admin ? (
          <>
            {' '}
            (<a href="/admin/people">mark members on the People page</a>)
          </>
        ) : null}
        .
      </p>
      {props.admin ? (
        <form method="post" action="/admin/policies/settings" aria-label="Works-council approval">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <label class="check">
            <input type="checkbox" name="worksCouncilRequired" checked={council.required} /> Require works-council approval before publishing
          </label>
          <button type="submit">Save approval setting</button>
        </form>
      ) : null}
    </section>
  );
}

export function PolicyListPage(
  props: {
    user: SignedInUser;
    csrf: string;
    versions: { version: number; state: string; publishedAt: string | null; createdAt: string; publishedWithoutReview: boolean }[];
    council: CouncilSettings;
  } & PageMessages,
) {
  const admin = props.user.role === 'admin';
  return (
    <Layout title="Policies" user={props.user} current="/admin/policies">
      <Problems message={props.error} fields={props.fields} labels={{ worksCouncilRequired: 'Works-council approval' }} />
      <Info text={props.info} />
      {admin ? <ActionButton action="/admin/policies" csrf={props.csrf} label="New draft from the current policy" /> : null}
      <CouncilSection csrf={props.csrf} council={props.council} admin={admin} />
      <h2>Versions</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Version</th>
              <th>State</th>
              <th>Created</th>
              <th>Published</th>
            </tr>
          </thead>
          <tbody>
            {props.versions.map((v) => (
              <tr>
                <td>
                  <a href={`/admin/policies/${v.version}`}>v{v.version}</a>
                </td>
                <td>{v.publishedWithoutReview ? `${v.state.replace('_', ' ')}, without review` : v.state.replace('_', ' ')}</td>
                <td>{when(v.createdAt)}</td>
                <td>{when(v.publishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}

export function DiffTable(props: { diff: PolicyDiff }) {
  const { diff } = props;
  if (diff.changes.length === 0) return <p>No changes from v{diff.fromVersion}.</p>;
  return (
    <>
      <p>
        Compared with {diff.fromVersion ? `v${diff.fromVersion}` : 'nothing (first version)'}:{' '}
        {diff.widens ? (
          <span class="widens">
            widens what is asked of people; every device asks again
            {diff.widenedScopes.length > 0 ? ` and stops ${diff.widenedScopes.join(', ')} until the person decides` : ''}.
          </span>
        ) : (
          'does not widen anything.'
        )}
      </p>
      <div class="table-wrap">
        <table aria-label="Changes">
          <thead>
            <tr>
              <th>Field</th>
              <th>Change</th>
              <th>Widens</th>
            </tr>
          </thead>
          <tbody>
            {diff.changes.map((c) => (
              <tr>
                <td>
                  <code>{c.field}</code>
                </td>
                <td>{c.summary}</td>
                <td>{c.widens ? <span class="widens">yes</span> : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** What people will read in the consent dialog about who sees what: the same shared sentences the agent shows. */
export function WhoSeesWhat(props: { view: PolicyVersionView }) {
  const settings = visibilityOf(props.view.content);
  return (
    <section aria-labelledby="who-sees-heading">
      <h2 id="who-sees-heading">Who sees what, as the consent dialog will say it</h2>
      <p>{managersSentence(settings)}</p>
      <h3>What a manager will see about an employee</h3>
      <ul>
        {managerPreview(settings).map((line) => (
          <li>{line}</li>
        ))}
      </ul>
      {props.view.conflicts.length > 0 ? (
        <div class="notice error" role="alert">
          <p>Warning: the text reads differently from these settings, and people would read both in the same dialog.</p>
          <ul>
            {props.view.conflicts.map((c) => (
              <li>
                {c.field === 'purpose' ? 'The purpose' : `The purpose of ${c.field.split('.')[1] ?? c.field}`} {c.problem}.
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

function PolicyEditor(props: { version: number; csrf: string; form: PolicyForm }) {
  const f = props.form;
  const rules = [...f.redactionRules, { pattern: '', replacement: '' }, { pattern: '', replacement: '' }];
  const num = (name: keyof PolicyForm & string, label: string, value: string) => (
    <>
      <label for={name}>{label}</label>
      <input id={name} name={name} inputmode="numeric" value={value} />
    </>
  );
  return (
    <form method="post" action={`/admin/policies/${props.version}`} aria-label="Edit draft">
      <input type="hidden" name="_csrf" value={props.csrf} />
      <label for="purpose">Purpose (shown to every employee)</label>
      <textarea id="purpose" name="purpose">
        {f.purpose}
      </textarea>
      <fieldset>
        <legend>Scopes</legend>
        {f.scopes.map((s) => (
          <div>
            <label class="check">
              <input type="checkbox" name={`scope.${s.scope}`} checked={s.enabled} /> {s.scope}
            </label>
            <label for={`scope.${s.scope}.purpose`}>Purpose of {s.scope}</label>
            <input id={`scope.${s.scope}.purpose`} name={`scope.${s.scope}.purpose`} value={s.purpose} size={80} />
            <label for={`scope.${s.scope}.legalBasis`}>Legal basis of {s.scope}</label>
            <select id={`scope.${s.scope}.legalBasis`} name={`scope.${s.scope}.legalBasis`}>
              {['consent', 'legitimate_interest'].map((b) => (
                <option value={b} selected={s.legalBasis === b}>
                  {b.replace('_', ' ')}
                </option>
              ))}
            </select>
          </div>
        ))}
      </fieldset>
      <fieldset>
        <legend>Window titles</legend>
        <label for="titleMode">Title mode</label>
        <select id="titleMode" name="titleMode">
          {['hashed', 'redacted', 'full'].map((m) => (
            <option value={m} selected={f.titleMode === m}>
              {m}
            </option>
          ))}
        </select>
        <p>Redaction rules (regular expressions applied on the device; empty rows are ignored)</p>
        {rules.map((r, i) => (
          <div>
            <label for={`redactionRules.${i}.pattern`}>Rule {i + 1} pattern</label>
            <input id={`redactionRules.${i}.pattern`} name={`redactionRules.${i}.pattern`} value={r.pattern} />
            <label for={`redactionRules.${i}.replacement`}>Rule {i + 1} replacement</label>
            <input id={`redactionRules.${i}.replacement`} name={`redactionRules.${i}.replacement`} value={r.replacement} />
          </div>
        ))}
      </fieldset>
      <fieldset>
        <legend>Limits and visibility</legend>
        {num('idleThresholdSeconds', 'Idle after (seconds)', f.idleThresholdSeconds)}
        {num('retentionDays', 'Server retention (days)', f.retentionDays)}
        {num('minGroupSize', 'Smallest group shown (people, at least 5)', f.minGroupSize)}
        {num('reviewBeforeSendMinutes', 'Review before send (minutes, 0 = off)', f.reviewBeforeSendMinutes)}
        {num('localRetentionDays', 'Unsent data kept on the device (days)', f.localRetentionDays)}
        <p>
          <label class="check">
            <input type="checkbox" name="managersSeeIndividuals" checked={f.managersSeeIndividuals} /> Managers may see individuals (of their own teams, with
            consent)
          </label>
        </p>
        <label for="controller.name">Controller</label>
        <input id="controller.name" name="controller.name" value={f.controllerName} />
        <label for="controller.contact">Controller contact</label>
        <input id="controller.contact" name="controller.contact" value={f.controllerContact} />
      </fieldset>
      <button type="submit">Save draft</button> {/* The same form, so what was typed is saved before it goes to review (nothing typed is lost). */}
      <button type="submit" formaction={`/admin/policies/${props.version}/submit`}>
        Save and submit for review
      </button>
    </form>
  );
}

function capacity(a: { asAdmin: boolean; asWorksCouncil: boolean }): string {
  if (a.asAdmin && a.asWorksCouncil) return 'as admin and works-council member';
  return a.asWorksCouncil ? 'as works-council member' : 'as admin';
}

export function PolicyVersionPage(
  props: { user: SignedInUser; csrf: string; view: PolicyVersionView; form: PolicyForm; canApprove: boolean; isAuthor: boolean } & PageMessages,
) {
  const v = props.view;
  const base = `/admin/policies/${v.version}`;
  const admin = props.user.role === 'admin';
  return (
    <Layout title={`Policy v${v.version} (${v.state.replace('_', ' ')})`} user={props.user} current="/admin/policies">
      <Problems message={props.error} fields={props.fields} labels={POLICY_LABELS} />
      <Info text={props.info} />
      <p>
        Written by {v.authors.length > 0 ? v.authors.map((a) => a.name).join(', ') : 'the system'}; created {when(v.createdAt)}.{' '}
        {v.worksCouncilRequired ? 'Works-council approval is required in this organisation.' : ''}
      </p>
      {v.publishedWithoutReview ? (
        <p class="notice" role="status">
          Published without review: the organisation had one admin and no works council, and the admin confirmed that nobody else reviewed this version.
        </p>
      ) : null}
      <p>
        sha256 <code>{v.hash}</code>
      </p>
      {v.nothingChanged ? (
        <p class="notice info" role="status">
          Nothing changed from v{v.diff.fromVersion}: this draft cannot be submitted or published until something in it changes.
        </p>
      ) : null}
      <h2>What changes</h2>
      <DiffTable diff={v.diff} />
      <WhoSeesWhat view={v} />
      {v.state === 'in_review' ? (
        <>
          <h2>Approvals</h2>
          {v.approvals.length > 0 ? (
            <ul aria-label="Approvals">
              {v.approvals.map((a) => (
                <li>
                  {a.name} {capacity(a)}, {when(a.approvedAt)}
                </li>
              ))}
            </ul>
          ) : (
            <p>No approvals yet.</p>
          )}
          <p>{v.missingApprovals.length > 0 ? `Still needs ${v.missingApprovals.join(' and ')}.` : 'Approved: ready to publish.'}</p>
          {props.isAuthor ? <p>You wrote or edited this version, so someone else must approve it.</p> : null}
          {props.canApprove ? <ActionButton action={`${base}/approve`} csrf={props.csrf} label="Approve" /> : null}
          {admin && !v.mayPublishWithoutReview ? (
            <ActionButton action={`${base}/publish`} csrf={props.csrf} label={v.conflicts.length > 0 ? 'Publish despite the warning' : 'Publish'} />
          ) : null}
          {v.mayPublishWithoutReview ? (
            <form method="post" action={`${base}/publish`} aria-label="Publish without review">
              <input type="hidden" name="_csrf" value={props.csrf} />
              <input type="hidden" name="withoutReview" value="yes" />
              <p>
                You are the only person here who can review a policy: the only admin, with no works-council member and works-council approval off. You may
                publish it yourself; the audit log and this version's history will say it was published without review. Once a second admin or a works-council
                member exists, they must approve every version.
              </p>
              <label>
                <input type="checkbox" name="confirm" value="yes" /> I confirm that nobody else reviewed this version
              </label>{' '}
              <button type="submit">Publish without review</button>
            </form>
          ) : null}
          {admin ? <ActionButton action={`${base}/reopen`} csrf={props.csrf} label="Back to draft" /> : null}
        </>
      ) : null}
      {v.state === 'draft' && admin ? (
        <>
          <h2>Edit</h2>
          <PolicyEditor version={v.version} csrf={props.csrf} form={props.form} />
        </>
      ) : null}
    </Layout>
  );
}

export function ConsentHistoryPage(props: {
  user: SignedInUser;
  history: {
    person: { name: string; email: string };
    records: {
      receiptId: string;
      deviceId: string;
      policyVersion: number;
      decision: string;
      granted: string[];
      method: string;
      effectiveAt: string;
      supersededAt: string | null;
    }[];
    imports: { id: string; deviceId: string; source: string; from: string; to: string; scopes: string[]; decidedAt: string; withdrawnAt: string | null }[];
  };
}) {
  const h = props.history;
  return (
    <Layout title={`Consent history of ${h.person.name}`} user={props.user} current="/admin/policies">
      <p>{h.person.email}. Every decision on every device, oldest first; nothing is ever overwritten.</p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Decision</th>
              <th>Granted</th>
              <th>Policy</th>
              <th>Device</th>
              <th>How</th>
              <th>Receipt</th>
              <th>Superseded</th>
            </tr>
          </thead>
          <tbody>
            {h.records.map((r) => (
              <tr>
                <td>{when(r.effectiveAt)}</td>
                <td>{r.decision}</td>
                <td>{r.granted.join(', ') || 'nothing'}</td>
                <td>v{r.policyVersion}</td>
                <td>
                  <code>{r.deviceId}</code>
                </td>
                <td>{r.method}</td>
                <td>
                  <code>{r.receiptId}</code>
                </td>
                <td>{when(r.supersededAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Imported history</h2>
      {h.imports.length === 0 ? (
        <p>No history imported from another tool.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Decided</th>
                <th>From</th>
                <th>Period covered</th>
                <th>Granted</th>
                <th>Device</th>
                <th>Receipt</th>
                <th>Withdrawn (history erased)</th>
              </tr>
            </thead>
            <tbody>
              {h.imports.map((g) => (
                <tr>
                  <td>{when(g.decidedAt)}</td>
                  <td>{g.source === 'activitywatch' ? 'ActivityWatch' : g.source}</td>
                  <td>{`${when(g.from)} to ${when(g.to)}`}</td>
                  <td>{g.scopes.join(', ')}</td>
                  <td>
                    <code>{g.deviceId}</code>
                  </td>
                  <td>
                    <code>{g.id}</code>
                  </td>
                  <td>{when(g.withdrawnAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
