import type { FieldProblem } from '@icarus/shared';
import type { PolicyVersionView } from '../consent';
import type { PolicyDiff } from '../consent';
import type { SignedInUser } from '../../platform/env';
import { ActionButton, Info, Problems, when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { PolicyForm } from './policy-form';

export interface PageMessages {
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
  info?: string | undefined;
}

export function PolicyListPage(
  props: { user: SignedInUser; csrf: string; versions: { version: number; state: string; publishedAt: string | null; createdAt: string }[] } & PageMessages,
) {
  return (
    <Layout title="Policies" user={props.user} current="/admin/policies">
      <Problems message={props.error} fields={props.fields} />
      <Info text={props.info} />
      <ActionButton action="/admin/policies" csrf={props.csrf} label="New draft from the current policy" />
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
              <td>{v.state.replace('_', ' ')}</td>
              <td>{when(v.createdAt)}</td>
              <td>{when(v.publishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
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
    </>
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
      <button type="submit">Save draft</button>
    </form>
  );
}

export function PolicyVersionPage(props: { user: SignedInUser; csrf: string; view: PolicyVersionView; form: PolicyForm; canApprove: boolean } & PageMessages) {
  const v = props.view;
  const base = `/admin/policies/${v.version}`;
  const admin = props.user.role === 'admin';
  return (
    <Layout title={`Policy v${v.version} (${v.state.replace('_', ' ')})`} user={props.user} current="/admin/policies">
      <Problems message={props.error} fields={props.fields} />
      <Info text={props.info} />
      <p>
        sha256 <code>{v.hash}</code>. {v.worksCouncilRequired ? 'Works-council approval is required in this organisation.' : ''}
      </p>
      <h2>What changes</h2>
      <DiffTable diff={v.diff} />
      {v.state === 'in_review' ? (
        <>
          <h2>Approvals</h2>
          <ul>
            {v.approvals.map((a) => (
              <li>
                {a.userId} {a.asAdmin ? 'as admin' : ''} {a.asWorksCouncil ? 'as works council' : ''} at {when(a.approvedAt)}
              </li>
            ))}
          </ul>
          <p>{v.missingApprovals.length > 0 ? `Still needs: ${v.missingApprovals.join(' and ')}.` : 'Approved: ready to publish.'}</p>
          {props.canApprove ? <ActionButton action={`${base}/approve`} csrf={props.csrf} label="Approve" /> : null}
          {admin ? <ActionButton action={`${base}/publish`} csrf={props.csrf} label="Publish" /> : null}
          {admin ? <ActionButton action={`${base}/reopen`} csrf={props.csrf} label="Back to draft" /> : null}
        </>
      ) : null}
      {v.state === 'draft' && admin ? (
        <>
          <h2>Edit</h2>
          <PolicyEditor version={v.version} csrf={props.csrf} form={props.form} />
          <ActionButton action={`${base}/submit`} csrf={props.csrf} label="Submit for review" />
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
  };
}) {
  const h = props.history;
  return (
    <Layout title={`Consent history of ${h.person.name}`} user={props.user} current="/admin/policies">
      <p>{h.person.email}. Every decision on every device, oldest first; nothing is ever overwritten.</p>
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
    </Layout>
  );
}
