import type { SignedInUser } from '../../../platform/env';
import { Notice } from '../../../ui/components';
import { Layout } from '../../../ui/layout';
import { SignOutButton } from './sign-in';

export interface SecurityPageProps {
  user: SignedInUser;
  csrf: string;
  hasTotp: boolean;
  /** Admins without TOTP land here and can do nothing else until they enrol. */
  required: boolean;
  enrollment?: { secret: string; uri: string };
  error?: string;
  info?: string;
}

export function SecurityPage(props: SecurityPageProps) {
  return (
    <Layout title="Account security" width="narrow" user={props.user} current="/account/security">
      <p>
        Signed in as {props.user.name} ({props.user.email}), role {props.user.role}.
      </p>
      <Notice kind="error" text={props.error} />
      <Notice kind="info" text={props.info} />
      {props.required ? <Notice kind="info" text="Administrators must set up two-factor authentication before anything else." /> : null}
      <h2>Two-factor authentication</h2>
      {props.enrollment ? (
        <form method="post" action="/account/security/totp/confirm">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <p>Add this account to your authenticator app with the setup key or the link, then enter the code it shows.</p>
          <p>
            Setup key: <code>{props.enrollment.secret}</code>
          </p>
          <p>
            <a href={props.enrollment.uri}>Open in authenticator app</a> (<code>{props.enrollment.uri}</code>)
          </p>
          <label for="code">6-digit code</label>
          <input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength={6} autocomplete="one-time-code" required autofocus />
          <button type="submit">Confirm</button>
        </form>
      ) : (
        <form method="post" action="/account/security/totp">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <p>{props.hasTotp ? 'An authenticator app is set up. You can replace it with a new one.' : 'Not set up yet.'}</p>
          <button type="submit">{props.hasTotp ? 'Replace authenticator' : 'Set up authenticator'}</button>
        </form>
      )}
      <SignOutButton csrf={props.csrf} />
    </Layout>
  );
}
