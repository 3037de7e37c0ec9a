import type { FieldProblem } from '@icarus/shared';
import type { SignedInUser } from '../../../platform/env';
import { DataTable, Notice, Problems, when } from '../../../ui/components';
import { Layout } from '../../../ui/layout';
import type { SessionView } from '../account';
import { NewPasswordFields } from './password';

export interface AccountPageProps {
  user: SignedInUser;
  csrf: string;
  /** `sso`: the person signs in with single sign-on and has no password here; `none`: not invited yet. */
  password: 'set' | 'sso' | 'none';
  minLength: number;
  sessions: SessionView[];
  hasTotp: boolean;
  error?: { message: string; fields?: FieldProblem[] | undefined };
  info?: string;
}

/** The account page: who you are, your password, where you are signed in. */
export function AccountPage(props: AccountPageProps) {
  const others = props.sessions.filter((s) => !s.current).length;
  return (
    <Layout title="Your account" width="reading" user={props.user} current="/account">
      <p>
        {props.user.name} ({props.user.email}), role {props.user.role}.
      </p>
      <Problems message={props.error?.message} fields={props.error?.fields} />
      <Notice kind="info" text={props.info} />
      <ul class="links">
        <li>
          <a href="/account/security">Two-factor authentication and recovery codes</a> ({props.hasTotp ? 'set up' : 'not set up'})
        </li>
        {props.user.role === 'manager' || props.user.role === 'admin' ? (
          <li>
            <a href="/account/api-tokens">API tokens</a>: let a BI tool or a script read your reports
          </li>
        ) : null}
        <li>
          <a href="/me/data">My data</a>: what is recorded about you, who viewed it, export and erasure
        </li>
      </ul>

      <h2>Password</h2>
      {props.password === 'sso' ? (
        <p>You sign in with your company account (single sign-on); there is no password here to change.</p>
      ) : props.password === 'none' ? (
        <p>You have no password yet. Ask your administrator for an invitation.</p>
      ) : (
        <form method="post" action="/account/password" class="stack">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <label for="current">Current password</label>
          <input id="current" name="current" type="password" autocomplete="current-password" required />
          <NewPasswordFields minLength={props.minLength} />
          <button type="submit">Change password</button>
          <p class="small">Changing it signs you out of every other browser.</p>
        </form>
      )}

      <h2>Where you are signed in</h2>
      <DataTable label="Your sessions" head={['Signed in', 'Last active', 'From', 'How', 'Sign out']}>
        {props.sessions.map((s) => (
          <tr>
            <td>{when(s.createdAt)}</td>
            <td>{when(s.lastSeenAt)}</td>
            <td>{s.address ?? '—'}</td>
            <td>{s.method === 'oidc' ? 'single sign-on' : 'password'}</td>
            <td>
              {s.current ? (
                'this browser'
              ) : (
                <form method="post" action={`/account/sessions/${s.id}/end`} class="inline">
                  <input type="hidden" name="_csrf" value={props.csrf} />
                  <button type="submit" class="link" aria-label={`Sign out the session from ${when(s.createdAt)}`}>
                    Sign out
                  </button>
                </form>
              )}
            </td>
          </tr>
        ))}
      </DataTable>
      <form method="post" action="/sign-out/everywhere">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <button type="submit" class="danger">
          Sign out everywhere{others > 0 ? ` (${others + 1} sessions)` : ''}
        </button>
      </form>
    </Layout>
  );
}
