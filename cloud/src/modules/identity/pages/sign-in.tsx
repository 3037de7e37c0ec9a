import { Notice } from '../../../ui/components';
import { Layout } from '../../../ui/layout';

export function SignInPage(props: {
  csrf: string;
  next: string;
  email?: string;
  error?: string;
  /** Why the person is here: their session ended, their password was changed. */
  info?: string;
  sso: boolean;
  /** Only after a password that opened accounts in each of these. */
  organizations?: { id: string; name: string }[];
}) {
  return (
    <Layout title="Sign in" width="narrow">
      <Notice kind="error" text={props.error} />
      <Notice kind="info" text={props.info} />
      <form method="post" action="/sign-in">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required autofocus={props.organizations === undefined} value={props.email ?? ''} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required autofocus={props.organizations !== undefined} />
        {props.organizations ? (
          <>
            <label for="orgId">Organization</label>
            <select id="orgId" name="orgId" required>
              {props.organizations.map((o) => (
                <option value={o.id}>{o.name}</option>
              ))}
            </select>
          </>
        ) : null}
        <button type="submit">Sign in</button>
      </form>
      <p>
        <a href="/sign-in/forgot">Forgot your password?</a>
      </p>
      {props.sso ? (
        <p>
          <a href={`/sso/oidc/start?next=${encodeURIComponent(props.next)}`}>Sign in with your company account (single sign-on)</a>
        </p>
      ) : null}
    </Layout>
  );
}

export function TotpPage(props: { csrf: string; next: string; error?: string }) {
  return (
    <Layout title="Two-factor authentication" width="narrow">
      <Notice kind="error" text={props.error} />
      <form method="post" action="/sign-in/totp">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label for="code">6-digit code from your authenticator app</label>
        <input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength={6} autocomplete="one-time-code" required autofocus />
        <button type="submit">Verify</button>
      </form>
      <details class="recovery-entry">
        <summary>Lost your authenticator? Use a recovery code</summary>
        <form method="post" action="/sign-in/totp">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <input type="hidden" name="next" value={props.next} />
          <label for="recovery">Recovery code (like abcd-efgh-jkmn)</label>
          <input id="recovery" name="code" autocomplete="off" autocapitalize="none" spellcheck={false} maxlength={20} required />
          <button type="submit">Use recovery code</button>
        </form>
      </details>
      <SignOutButton csrf={props.csrf} />
    </Layout>
  );
}

export function SignOutButton(props: { csrf: string }) {
  return (
    <form method="post" action="/sign-out">
      <input type="hidden" name="_csrf" value={props.csrf} />
      <button type="submit" class="link">
        Sign out
      </button>
    </form>
  );
}

export function SsoRefusedPage(props: { message: string }) {
  return (
    <Layout title="Single sign-on refused" width="narrow">
      <Notice kind="error" text={props.message} />
      <p>Ask your administrator to add your email address to the directory, then try again.</p>
      <p>
        <a href="/sign-in">Back to sign-in</a>
      </p>
    </Layout>
  );
}
