import type { FieldProblem } from '@icarus/shared';
import type { SignedInUser } from '../../platform/env';
import { ActionButton, DataTable, Info, Problems } from '../../ui/components';
import { Layout } from '../../ui/layout';

export interface PageState {
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
  info?: string | undefined;
  created?: { id: string; name: string; token: string } | undefined;
}

interface ConnectionView {
  id: string;
  name: string;
  tokenHint: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const day = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : 'never');

export function ProvisioningPage(
  props: { user: SignedInUser; csrf: string; scimUrl: string; connections: ConnectionView[]; deprovisionedData: 'keep' | 'erase' } & PageState,
) {
  return (
    <Layout title="Provisioning (SCIM)" user={props.user} current="/admin/provisioning">
      <Problems message={props.error} fields={props.fields} labels={{ name: 'the connection name', deprovisionedData: 'what happens to the data' }} />
      <Info text={props.info} />
      <p>
        Your identity provider (Entra ID, Okta or any SCIM 2.0 client) creates, updates and deactivates people and teams here. Its users become people who sign
        in through single sign-on only and never have a password; its groups become teams. Deactivating or deleting a user ends their sign-in, and every
        computer bound to them stops recording and tells whoever is at it.
      </p>
      <p>
        SCIM base URL: <code>{props.scimUrl}</code>
      </p>
      {props.created ? (
        <section aria-labelledby="token-heading" role="status">
          <h2 id="token-heading">Token for “{props.created.name}”</h2>
          <p>Copy it into your identity provider now: it is shown only this once and kept here only as a hash.</p>
          <p>
            <code>{props.created.token}</code>
          </p>
        </section>
      ) : null}
      <h2>Connections</h2>
      <DataTable label="SCIM connections" head={['Name', 'Token begins', 'Made', 'Last used', 'State', '']}>
        {props.connections.map((c) => (
          <tr>
            <td>{c.name}</td>
            <td>
              <code>{c.tokenHint}…</code>
            </td>
            <td>{day(c.createdAt)}</td>
            <td>{day(c.lastUsedAt)}</td>
            <td>{c.revokedAt ? `revoked ${day(c.revokedAt)}` : 'in use'}</td>
            <td>
              {c.revokedAt ? null : (
                <ActionButton action={`/admin/provisioning/connections/${c.id}/revoke`} csrf={props.csrf} label={`Revoke ${c.name}`} danger />
              )}
            </td>
          </tr>
        ))}
      </DataTable>
      <form method="post" action="/admin/provisioning/connections" aria-label="New SCIM connection">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="name">Name of the new connection (for example, the identity provider)</label>
        <input id="name" name="name" required maxlength={100} />
        <button type="submit">Make a connection and its token</button>
      </form>
      <h2>When a person is deprovisioned</h2>
      <form method="post" action="/admin/provisioning/settings" aria-label="Deprovisioned people's data">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <fieldset>
          <legend>Their activity data</legend>
          <label>
            <input type="radio" name="deprovisionedData" value="keep" checked={props.deprovisionedData === 'keep'} /> Keep it until the policy’s retention
            removes it (reports keep counting their past days)
          </label>
          <label>
            <input type="radio" name="deprovisionedData" value="erase" checked={props.deprovisionedData === 'erase'} /> Erase it at once: their spans, their
            share of every report, and what their computers still hold
          </label>
        </fieldset>
        <button type="submit">Save</button>
      </form>
    </Layout>
  );
}
