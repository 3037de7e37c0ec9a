import { SCOPES, type Policy } from '@icarus/shared';
import { when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import { visibilitySummary } from './receipt';

const TITLE_MODES = {
  full: 'Window titles are sent as shown.',
  redacted: 'Window titles are redacted on your computer by the rules below before they are sent.',
  hashed: 'Only a one-way hash of each window title leaves your computer.',
} as const;

/** The public text of one published policy version: the page every receipt links to. */
export function PolicyPage({ policy }: { policy: Policy }) {
  const c = policy.content;
  return (
    <Layout title={`${c.controller.name}: activity data policy, version ${policy.version}`} width="reading">
      <p>{c.purpose}</p>
      <h2>What may be recorded, and why</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Scope</th>
              <th scope="col">Purpose</th>
              <th scope="col">Legal basis</th>
            </tr>
          </thead>
          <tbody>
            {c.scopes.map((s) => (
              <tr>
                <td>{SCOPES[s.scope].label}</td>
                <td>{s.purpose}</td>
                <td>{s.legalBasis === 'consent' ? 'Your consent (you may refuse with no consequence)' : 'Legitimate interest (you may object)'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <dl>
        <dt>Window titles</dt>
        <dd>{c.scopes.some((s) => s.scope === 'window_titles') ? TITLE_MODES[c.titleMode] : 'Never recorded.'}</dd>
        {c.titleMode === 'redacted' && c.redactionRules.length > 0 ? (
          <>
            <dt>Redaction rules</dt>
            <dd>
              <ul>
                {c.redactionRules.map((r) => (
                  <li>
                    <code>{r.pattern}</code> → <code>{r.replacement}</code>
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
        <dt>Idle</dt>
        <dd>After {Math.round(c.idleThresholdSeconds / 60)} minutes without input, from the operating system idle timer only.</dd>
        <dt>Who can see what</dt>
        <dd>{visibilitySummary(c)}</dd>
        <dt>Retention</dt>
        <dd>
          Raw activity is deleted after {c.retentionDays} days. Unsent data stays on your computer for at most {c.localRetentionDays} days.
        </dd>
        {c.reviewBeforeSendMinutes > 0 ? (
          <>
            <dt>Review before sending</dt>
            <dd>Activity waits {c.reviewBeforeSendMinutes} minutes on your computer so you can look at it and delete any of it first.</dd>
          </>
        ) : null}
        <dt>Controller</dt>
        <dd>
          {c.controller.name}, {c.controller.contact}
        </dd>
        <dt>Fingerprint of this text</dt>
        <dd>
          SHA-256 <code>{policy.hash}</code>, published {when(policy.publishedAt)}
        </dd>
      </dl>
    </Layout>
  );
}
