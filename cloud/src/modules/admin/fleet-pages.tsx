import type { SignedInUser } from '../../platform/env';
import type { FleetAdmin } from './fleet';
import { ActionButton, Info, Problems, when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { PageMessages } from './policy-pages';

type Devices = Awaited<ReturnType<FleetAdmin['listDevices']>>;
type Tokens = Awaited<ReturnType<FleetAdmin['listTokens']>>;

type Person = { id: string; name: string; email: string };

/** IT's binding control: a person of the org, or nobody. The OS account is shown as a hint only. */
function AssignForm(props: { deviceId: string; csrf: string; people: Person[]; current: string | null }) {
  return (
    <form method="post" action={`/admin/devices/${props.deviceId}/assign`} class="inline" aria-label="Assign to a person">
      <input type="hidden" name="_csrf" value={props.csrf} />
      <select name="userId" aria-label="Person">
        <option value="">nobody (unbound)</option>
        {props.people.map((p) => (
          <option value={p.id} selected={props.current === p.id}>{`${p.name} <${p.email}>`}</option>
        ))}
      </select>
      <button type="submit">Assign</button>
    </form>
  );
}

export function DevicesPage(props: { user: SignedInUser; csrf: string; devices: Devices; people: Person[] } & PageMessages) {
  return (
    <Layout title="Devices" user={props.user} current="/admin/devices">
      <Problems message={props.error} fields={props.fields} />
      <Info text={props.info} />
      <table>
        <thead>
          <tr>
            <th>Device</th>
            <th>Owner</th>
            <th>Platform</th>
            <th>Agent</th>
            <th>Last sync</th>
            <th>Pending</th>
            <th>Dropped</th>
            <th>Failing capture</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {props.devices.map((d) => (
            <tr>
              <td>
                {d.name}
                <br />
                <code>{d.deviceId}</code>
              </td>
              <td>
                {d.owner ? <a href={`/admin/people/${d.owner.userId}/consent`}>{d.owner.name}</a> : 'unbound'}
                <br />
                <small>{`OS account: ${d.osUser} (a hint, not proof)`}</small>
                {d.revokedAt ? null : <AssignForm deviceId={d.deviceId} csrf={props.csrf} people={props.people} current={d.owner?.userId ?? null} />}
              </td>
              <td>{d.platform}</td>
              <td>{d.agentVersion ?? '—'}</td>
              <td>{when(d.lastSyncAt)}</td>
              <td>{d.pendingSpans ?? '—'}</td>
              <td>{d.droppedSpans ?? '—'}</td>
              <td>{d.failingSources.length > 0 ? d.failingSources.map((s) => `${s.name}: ${s.problem}`).join('; ') : 'none'}</td>
              <td>
                {d.revokedAt ? (
                  `revoked ${when(d.revokedAt)}`
                ) : (
                  <ActionButton action={`/admin/devices/${d.deviceId}/revoke`} csrf={props.csrf} label="Revoke" danger />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

export function TokensPage(
  props: {
    user: SignedInUser;
    csrf: string;
    tokens: Tokens;
    teams: { id: string; name: string }[];
    people: Person[];
    created?: { token: string; expiresAt: string };
    values?: Record<string, string>;
  } & PageMessages,
) {
  const v = props.values ?? {};
  return (
    <Layout title="Enrollment tokens" user={props.user} current="/admin/enrollment-tokens">
      <Problems message={props.error} fields={props.fields} />
      <Info text={props.info} />
      {props.created ? (
        <div class="notice info" role="status">
          <p>New token, shown this once (valid until {when(props.created.expiresAt)}):</p>
          <p>
            <code id="new-token">{props.created.token}</code>
          </p>
        </div>
      ) : null}
      <form method="post" action="/admin/enrollment-tokens" aria-label="New enrollment token">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="label">Label</label>
        <input id="label" name="label" value={v.label ?? ''} />
        <label for="validDays">Valid for (days)</label>
        <input id="validDays" name="validDays" inputmode="numeric" value={v.validDays ?? '30'} />
        <label for="maxUses">Use limit</label>
        <input id="maxUses" name="maxUses" inputmode="numeric" value={v.maxUses ?? '50'} />
        <label for="teamId">Team</label>
        <select id="teamId" name="teamId">
          <option value="">no team</option>
          {props.teams.map((t) => (
            <option value={t.id} selected={v.teamId === t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <label for="userId">For one person (binds every device enrolled with it to them)</label>
        <select id="userId" name="userId">
          <option value="">fleet token: devices stay unbound until paired or assigned</option>
          {props.people.map((p) => (
            <option value={p.id} selected={v.userId === p.id}>{`${p.name} <${p.email}>`}</option>
          ))}
        </select>
        <button type="submit">Create token</button>
      </form>
      <table>
        <thead>
          <tr>
            <th>Label</th>
            <th>Team</th>
            <th>State</th>
            <th>Uses</th>
            <th>Expires</th>
            <th>Created</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {props.tokens.map((t) => (
            <tr>
              <td>{t.label}</td>
              <td>{t.team?.name ?? '—'}</td>
              <td>{t.state.replace('_', ' ')}</td>
              <td>
                {t.uses} / {t.maxUses}
              </td>
              <td>{when(t.expiresAt)}</td>
              <td>{when(t.createdAt)}</td>
              <td>
                {t.state === 'revoked' ? '' : <ActionButton action={`/admin/enrollment-tokens/${t.tokenId}/revoke`} csrf={props.csrf} label="Revoke" danger />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
