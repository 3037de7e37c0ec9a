import type { FieldProblem } from '@icarus/shared';
import type { SignedInUser } from '../../../platform/env';
import { DataTable, Notice, Problems, when } from '../../../ui/components';
import { Layout } from '../../../ui/layout';
import { API_TOKEN_RULES, type ApiTokenScope, type ApiTokenView } from '../api-tokens';

export const SCOPE_WORDS: Record<ApiTokenScope, string> = {
  'reports:team': 'Team reports (summary, apps, people, trend)',
  'reports:org': 'Organisation reports (trend, team comparison; admins)',
  'reports:export': 'CSV exports',
};

export interface ApiTokensPageProps {
  user: SignedInUser;
  csrf: string;
  tokens: ApiTokenView[];
  /** Teams the person may give a token (a manager's own; an admin's: all). */
  teams: { id: string; name: string }[];
  /** Just made: the token, shown this once. */
  created?: { name: string; token: string } | undefined;
  error?: { message: string; fields?: FieldProblem[] | undefined };
  info?: string;
}

const stateOf = (t: ApiTokenView, now: number) => (t.revokedAt ? 'revoked' : Date.parse(t.expiresAt) <= now ? 'expired' : 'active');

/** A manager's or admin's API tokens for BI tools: make one (shown once), see when each was used, revoke. */
export function ApiTokensPage(props: ApiTokensPageProps) {
  const now = Date.now();
  const scopes = (Object.keys(SCOPE_WORDS) as ApiTokenScope[]).filter((s) => s !== 'reports:org' || props.user.role === 'admin');
  const teamName = new Map(props.teams.map((t) => [t.id, t.name]));
  return (
    <Layout title="API tokens" width="reading" user={props.user} current="/account">
      <p>
        An API token lets a BI tool or a script read reports as you do: only the reports and teams you choose, never more than you may see, with the same
        minimum group size. Every read is in the audit log under your name and the token's. It stops working when it expires, when you revoke it, or when you
        may no longer read reports.
      </p>
      <Problems message={props.error?.message} fields={props.error?.fields} />
      <Notice kind="info" text={props.info} />
      {props.created ? (
        <section aria-labelledby="created-heading" class="stack">
          <h2 id="created-heading">Your new token “{props.created.name}”</h2>
          <p>Copy it now: it is not shown again. Send it as the header Authorization: Bearer followed by the token.</p>
          <code class="token">{props.created.token}</code>
        </section>
      ) : null}

      <h2>Make a token</h2>
      <form method="post" action="/account/api-tokens" class="stack">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="token-name">Name (what uses it)</label>
        <input id="token-name" name="name" maxlength={100} required />
        <fieldset>
          <legend>Reports it may read</legend>
          {scopes.map((s) => (
            <label>
              <input type="checkbox" name="scopes" value={s} checked={s === 'reports:team'} /> {SCOPE_WORDS[s]}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Teams (none ticked: every team you may see)</legend>
          {props.teams.map((t) => (
            <label>
              <input type="checkbox" name="teamIds" value={t.id} /> {t.name}
            </label>
          ))}
        </fieldset>
        <label for="token-days">Expires after (days, at most {API_TOKEN_RULES.maxDays})</label>
        <input id="token-days" name="expiresInDays" type="number" min={1} max={API_TOKEN_RULES.maxDays} value={String(API_TOKEN_RULES.defaultDays)} required />
        <button type="submit">Make token</button>
      </form>

      <h2>Your tokens</h2>
      <DataTable label="Your API tokens" head={['Name', 'Reports', 'Teams', 'Expires', 'Last used', 'State', 'Revoke']}>
        {props.tokens.map((t) => (
          <tr>
            <td>{t.name}</td>
            <td>{t.scopes.map((s) => SCOPE_WORDS[s]).join('; ')}</td>
            <td>{t.teamIds === null ? 'all yours' : t.teamIds.map((id) => teamName.get(id) ?? 'a team you no longer see').join(', ')}</td>
            <td>{when(t.expiresAt)}</td>
            <td>{when(t.lastUsedAt)}</td>
            <td>{stateOf(t, now)}</td>
            <td>
              {stateOf(t, now) === 'active' ? (
                <form method="post" action={`/account/api-tokens/${t.id}/revoke`} class="inline">
                  <input type="hidden" name="_csrf" value={props.csrf} />
                  <button type="submit" class="danger" aria-label={`Revoke the token ${t.name}`}>
                    Revoke
                  </button>
                </form>
              ) : (
                '—'
              )}
            </td>
          </tr>
        ))}
      </DataTable>
    </Layout>
  );
}
