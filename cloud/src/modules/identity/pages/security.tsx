import { raw } from 'hono/html';
import type { SignedInUser } from '../../../platform/env';
import { Notice } from '../../../ui/components';
import { Layout } from '../../../ui/layout';

export interface SecurityPageProps {
  user: SignedInUser;
  csrf: string;
  hasTotp: boolean;
  /** Admins without TOTP land here and can do nothing else until they enrol. */
  required: boolean;
  /** A secret being set up, with its QR code (an SVG drawn here, never by an outside service). */
  enrollment?: { secret: string; uri: string; qrSvg: string };
  /** Recovery codes just made: shown on this one page, never again. */
  recoveryCodes?: string[];
  recoveryCodesLeft: number;
  error?: string;
  info?: string;
}

function RecoveryCodes(props: { codes: string[] }) {
  return (
    <section aria-labelledby="codes-heading" class="recovery">
      <h2 id="codes-heading">Your recovery codes</h2>
      <p>
        Each code signs you in once instead of an authenticator code, if you lose your phone. Print them or keep them in a password manager now:{' '}
        <strong>this page is the only time they are shown.</strong>
      </p>
      <ol class="codes">
        {props.codes.map((code) => (
          <li>
            <code>{code}</code>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function SecurityPage(props: SecurityPageProps) {
  return (
    <Layout title="Account security" width="narrow" user={props.user} current="/account/security">
      <p>
        Signed in as {props.user.name} ({props.user.email}), role {props.user.role}. <a href="/account">Password and sessions</a>
      </p>
      <Notice kind="error" text={props.error} />
      <Notice kind="info" text={props.info} />
      {props.required ? <Notice kind="info" text="Administrators must set up two-factor authentication before anything else." /> : null}
      {props.recoveryCodes ? <RecoveryCodes codes={props.recoveryCodes} /> : null}
      <h2>Two-factor authentication</h2>
      {props.enrollment ? (
        <form method="post" action="/account/security/totp/confirm">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <p>Scan this code with your authenticator app, or enter the setup key by hand, then enter the 6-digit code the app shows.</p>
          <div class="qr" role="img" aria-label="QR code of the authenticator setup link">
            {raw(props.enrollment.qrSvg)}
          </div>
          <p>
            Setup key: <code class="secret">{props.enrollment.secret}</code>
          </p>
          <p class="small">
            <a href={props.enrollment.uri}>Open in an authenticator app on this device</a>
            <br />
            <code class="uri">{props.enrollment.uri}</code>
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
      {props.hasTotp && !props.enrollment ? (
        <>
          <h2>Recovery codes</h2>
          <p>
            {props.recoveryCodesLeft === 1 ? '1 unused recovery code is left.' : `${props.recoveryCodesLeft} unused recovery codes are left.`} New codes replace
            every earlier one.
          </p>
          <form method="post" action="/account/security/recovery-codes">
            <input type="hidden" name="_csrf" value={props.csrf} />
            <button type="submit">Make new recovery codes</button>
          </form>
        </>
      ) : null}
    </Layout>
  );
}
