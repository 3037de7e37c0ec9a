import { SCOPES, type Policy } from '@icarus/shared';
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
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`Privacy policy v${policy.version} — ${c.controller.name}`}</title>
        <style>{`body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
          h1{font-size:1.6rem}dt{font-weight:600;margin-top:.75rem}code{word-break:break-all}
          table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccd;padding:.4rem;text-align:left;vertical-align:top}`}</style>
      </head>
      <body>
        <main>
          <h1>
            {c.controller.name}: activity data policy, version {policy.version}
          </h1>
          <p>{c.purpose}</p>
          <h2>What may be recorded, and why</h2>
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
              SHA-256 <code>{policy.hash}</code>, published {policy.publishedAt}
            </dd>
          </dl>
        </main>
      </body>
    </html>
  );
}
