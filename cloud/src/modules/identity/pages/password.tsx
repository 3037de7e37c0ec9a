import type { FieldProblem } from '@icarus/shared';
import type { SignedInUser } from '../../../platform/env';
import { Notice, Problems, when } from '../../../ui/components';
import { Layout } from '../../../ui/layout';

/**
 * A new password and its repetition, with the rule in words: the same on the invitation and reset
 * pages and on the account page's password change, so the rule is stated one way everywhere.
 */
export function NewPasswordFields(props: { minLength: number; autofocus?: boolean }) {
  return (
    <>
      <label for="password">New password</label>
      <input
        id="password"
        name="password"
        type="password"
        autocomplete="new-password"
        minlength={props.minLength}
        required
        autofocus={props.autofocus}
        aria-describedby="password-rule"
      />
      <p id="password-rule" class="small">
        At least {props.minLength} characters. A few unrelated words are easy to remember and hard to guess.
      </p>
      <label for="confirm">New password again</label>
      <input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength={props.minLength} required />
    </>
  );
}

/** "Forgot your password?": one email field; the answer never says whether the address is known. */
export function ForgotPasswordPage(props: { csrf: string; sent?: boolean; email?: string; error?: string }) {
  return (
    <Layout title="Reset your password" width="narrow">
      <Notice kind="error" text={props.error} />
      {props.sent ? (
        <>
          <p class="notice info" role="status">
            If an account has the address {props.email}, a link to set a new password is on its way there. It works once, for 30 minutes.
          </p>
          <p>No mail after a few minutes? Check the spelling and your spam folder, or ask your administrator.</p>
        </>
      ) : (
        <form method="post" action="/sign-in/forgot">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <p>Enter the email address you sign in with. We send a link to set a new password.</p>
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" required autofocus value={props.email ?? ''} />
          <button type="submit">Send the link</button>
        </form>
      )}
      <p>
        <a href="/sign-in">Back to sign-in</a>
      </p>
    </Layout>
  );
}

/** The page behind an invitation or reset link: choose a password. */
export function SetPasswordPage(props: {
  purpose: 'invitation' | 'password_reset';
  action: string;
  csrf: string;
  person: { name: string; email: string; expiresAt: string };
  minLength: number;
  error?: { message: string; fields?: FieldProblem[] | undefined };
}) {
  const invitation = props.purpose === 'invitation';
  return (
    <Layout title={invitation ? 'Welcome to Icarus Nova' : 'Choose a new password'} width="narrow">
      <Problems message={props.error?.message} fields={props.error?.fields} />
      <p>
        {invitation
          ? `${props.person.name}, choose a password to sign in as ${props.person.email}.`
          : `Choose a new password for ${props.person.email}. Every browser signed in as you will be signed out.`}
      </p>
      <form method="post" action={props.action}>
        <input type="hidden" name="_csrf" value={props.csrf} />
        {/* Lets password managers file the new password under the right account. */}
        <input type="hidden" name="username" autocomplete="username" value={props.person.email} />
        <NewPasswordFields minLength={props.minLength} autofocus />
        <button type="submit">{invitation ? 'Set password and sign in' : 'Set new password'}</button>
      </form>
      <p class="small">This link works once, until {when(props.person.expiresAt)}.</p>
    </Layout>
  );
}

/** A link that was used, replaced or expired. */
export function LinkInvalidPage(props: { message: string; purpose: 'invitation' | 'password_reset' }) {
  return (
    <Layout title="This link no longer works" width="narrow">
      <Notice kind="error" text={props.message} />
      <p>
        {props.purpose === 'invitation' ? (
          'Ask your administrator to invite you again, or, if you already set a password, '
        ) : (
          <>
            <a href="/sign-in/forgot">Ask for a new link</a>, or{' '}
          </>
        )}
        <a href="/sign-in">sign in</a>.
      </p>
    </Layout>
  );
}

/** GET /sign-out: the header's link lands here; signing out is a POST with the session's CSRF token. */
export function SignOutPage(props: { user: SignedInUser; csrf: string }) {
  return (
    <Layout title="Sign out" width="narrow" user={props.user}>
      <p>Sign out of Icarus Nova in this browser, or everywhere you are signed in as {props.user.email}.</p>
      <form method="post" action="/sign-out" class="inline">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <button type="submit" autofocus>
          Sign out
        </button>
      </form>
      <form method="post" action="/sign-out/everywhere" class="inline">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <button type="submit" class="danger">
          Sign out everywhere
        </button>
      </form>
    </Layout>
  );
}
