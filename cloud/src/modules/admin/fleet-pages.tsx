import type { SignedInUser } from '../../platform/env';
import type { DeviceView, FleetAdmin, FleetQuery } from './fleet';
import type { InstallCommand } from './install-commands';
import { ActionButton, FormProblems, Info, Pager, Problems, whenIn } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { PageMessages } from './policy-pages';

type DeviceList = Awaited<ReturnType<FleetAdmin['listDevices']>>;
type Tokens = Awaited<ReturnType<FleetAdmin['listTokens']>>;
type Person = { id: string; name: string; email: string };

export const DEVICES_PAGE = '/admin/devices';

const HEALTH_LABELS: Record<NonNullable<FleetQuery['health']>, string> = {
  silent: 'silent (no sync for 24 hours)',
  dropping: 'dropping spans',
  failing: 'failing capture',
  outdated: 'older agent',
  unbound: 'bound to no one',
};

const SORT_LABELS: Record<FleetQuery['sort'], string> = {
  enrolled: 'Enrolled',
  name: 'Device',
  lastSync: 'Last sync',
  version: 'Agent',
  platform: 'Platform',
};

/** The query string of the fleet page with some parameters changed; defaults and blanks left out. */
function fleetHref(query: Record<string, string>, change: Record<string, string | undefined>) {
  const merged: Record<string, string | undefined> = { ...query, ...change };
  const params = new URLSearchParams(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const text = params.toString();
  return text ? `${DEVICES_PAGE}?${text}` : DEVICES_PAGE;
}

function Summary(props: { list: DeviceList; query: Record<string, string> }) {
  const s = props.list.summary;
  const link = (health: NonNullable<FleetQuery['health']>, n: number) => (
    <li>
      <a href={fleetHref({}, { health })}>
        <strong>{n.toLocaleString('en')}</strong> {HEALTH_LABELS[health]}
      </a>
    </li>
  );
  return (
    <section class="summary" aria-label="Fleet health">
      <ul class="tiles">
        <li>
          <a href={DEVICES_PAGE}>
            <strong>{s.active.toLocaleString('en')}</strong> active devices
          </a>
        </li>
        {link('silent', s.silent)}
        {link('dropping', s.dropping)}
        {link('failing', s.failing)}
        {link('outdated', s.outdated)}
        {link('unbound', s.unbound)}
      </ul>
      <p class="versions">
        {'Agent versions: '}
        {s.versions.length === 0
          ? 'none yet'
          : s.versions.map((v, i) => (
              <>
                {i > 0 ? ', ' : ''}
                {v.version ?? 'unknown'} on {v.devices.toLocaleString('en')}
                {v.version !== null && v.version === s.newestVersion ? ' (newest)' : ''}
              </>
            ))}
        {s.revoked > 0 ? (
          <>
            {' · '}
            <a href={fleetHref({}, { state: 'revoked' })}>{`${s.revoked.toLocaleString('en')} revoked`}</a>
          </>
        ) : null}
      </p>
    </section>
  );
}

function SearchForm(props: { query: Record<string, string>; platforms: string[] }) {
  const q = props.query;
  return (
    <form method="get" action={DEVICES_PAGE} class="filters" role="search" aria-label="Find devices">
      <label>
        Search
        <input type="search" name="q" value={q['q'] ?? ''} placeholder="device, OS account, owner or id" />
      </label>
      <label>
        Health
        <select name="health">
          <option value="">any</option>
          {Object.entries(HEALTH_LABELS).map(([value, label]) => (
            <option value={value} selected={q['health'] === value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Platform
        <select name="platform">
          <option value="">any</option>
          {props.platforms.map((p) => (
            <option value={p} selected={q['platform'] === p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label>
        State
        <select name="state">
          {(['active', 'revoked', 'all'] as const).map((s) => (
            <option value={s} selected={(q['state'] ?? 'active') === s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      {q['sort'] ? <input type="hidden" name="sort" value={q['sort']} /> : null}
      {q['dir'] ? <input type="hidden" name="dir" value={q['dir']} /> : null}
      <button type="submit">Find</button>
    </form>
  );
}

/** A column header that sorts by its column; a second click turns the order around. */
function SortHeader(props: { column: FleetQuery['sort']; list: DeviceList; query: Record<string, string> }) {
  const active = props.list.sort === props.column;
  const next = active && props.list.dir === 'desc' ? 'asc' : active ? 'desc' : undefined;
  return (
    <th scope="col" aria-sort={active ? (props.list.dir === 'desc' ? 'descending' : 'ascending') : undefined}>
      <a href={fleetHref(props.query, { sort: props.column, dir: next, page: undefined })}>
        {SORT_LABELS[props.column]}
        {active ? (props.list.dir === 'desc' ? ' ▼' : ' ▲') : ''}
      </a>
    </th>
  );
}

function health(d: DeviceView, newest: string | null, silentSince: number): string[] {
  const problems: string[] = [];
  if (!d.revokedAt && (!d.lastSyncAt || Date.parse(d.lastSyncAt) < silentSince)) problems.push('silent');
  if ((d.droppedSpans ?? 0) > 0) problems.push(`${d.droppedSpans} spans dropped`);
  for (const s of d.failingSources) problems.push(`${s.name}: ${s.problem}`);
  if (newest && d.agentVersion !== newest) problems.push('older agent');
  return problems;
}

export function DevicesPage(props: { user: SignedInUser; list: DeviceList; query: Record<string, string>; timeZone: string; now: Date } & PageMessages) {
  const { list, query } = props;
  const silentSince = props.now.getTime() - 24 * 3_600_000;
  const first = (list.page - 1) * (Number(query['limit']) || 50) + 1;
  return (
    <Layout title="Devices" user={props.user} current={DEVICES_PAGE}>
      <Problems message={props.error} fields={props.fields} />
      <Info text={props.info} />
      <Summary list={list} query={query} />
      <SearchForm query={query} platforms={list.summary.platforms} />
      <p role="status">
        {list.total === 0
          ? 'No device matches.'
          : `${list.total.toLocaleString('en')} ${list.total === 1 ? 'device matches' : 'devices match'}; showing ${first.toLocaleString('en')}–${(first + list.devices.length - 1).toLocaleString('en')}.`}
      </p>
      {list.devices.length > 0 ? (
        <div class="table-wrap">
          <table class="cards" aria-label="Devices">
            <thead>
              <tr>
                <SortHeader column="name" list={list} query={query} />
                <th scope="col">Owner</th>
                <SortHeader column="platform" list={list} query={query} />
                <SortHeader column="version" list={list} query={query} />
                <SortHeader column="lastSync" list={list} query={query} />
                <SortHeader column="enrolled" list={list} query={query} />
                <th scope="col">Health</th>
              </tr>
            </thead>
            <tbody>
              {list.devices.map((d) => {
                const problems = health(d, list.summary.newestVersion, silentSince);
                return (
                  <tr>
                    <td data-label="Device">
                      <a href={`${DEVICES_PAGE}/${d.deviceId}`}>{d.name}</a>
                      <br />
                      <small class="muted">{`OS account ${d.osUser}`}</small>
                    </td>
                    <td data-label="Owner">{d.owner ? d.owner.name : <span class="muted">bound to no one</span>}</td>
                    <td data-label="Platform">{d.platform}</td>
                    <td data-label="Agent">{d.agentVersion ?? '—'}</td>
                    <td data-label="Last sync">{d.lastSyncAt ? whenIn(d.lastSyncAt, props.timeZone) : 'never'}</td>
                    <td data-label="Enrolled">{whenIn(d.enrolledAt, props.timeZone)}</td>
                    <td data-label="Health">
                      {d.revokedAt ? (
                        `revoked ${whenIn(d.revokedAt, props.timeZone)}`
                      ) : problems.length === 0 ? (
                        'healthy'
                      ) : (
                        <span class="bad">{problems.join('; ')}</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager page={list.page} pages={list.pages} href={(page) => fleetHref(query, { page: String(page) })} label="Device pages" />
    </Layout>
  );
}

/** One device: its health, who it records for (IT may assign it), and revocation behind a confirmation. */
export function DevicePage(props: { user: SignedInUser; csrf: string; device: DeviceView; timeZone: string; values?: Record<string, string> } & PageMessages) {
  const d = props.device;
  return (
    <Layout title={`Device ${d.name}`} user={props.user} current={DEVICES_PAGE}>
      <p>
        <a href={DEVICES_PAGE}>All devices</a>
      </p>
      <FormProblems message={props.error} fields={props.fields} labels={{ person: 'Person (email)', userId: 'Person', deviceId: 'Device' }} />
      <Info text={props.info} />
      <dl class="facts">
        <dt>Device id</dt>
        <dd>
          <code>{d.deviceId}</code>
        </dd>
        <dt>Records for</dt>
        <dd>{d.owner ? `${d.owner.name} <${d.owner.email}>` : 'no one (unbound)'}</dd>
        <dt>OS account</dt>
        <dd>{`${d.osUser} (a hint, not proof of who uses it)`}</dd>
        <dt>Platform and agent</dt>
        <dd>{`${d.platform}, agent ${d.agentVersion ?? 'version unknown'}`}</dd>
        <dt>Enrolled</dt>
        <dd>{whenIn(d.enrolledAt, props.timeZone)}</dd>
        <dt>Last sync</dt>
        <dd>{d.lastSyncAt ? whenIn(d.lastSyncAt, props.timeZone) : 'never'}</dd>
        <dt>Waiting to send / dropped</dt>
        <dd>{`${d.pendingSpans ?? '—'} spans waiting, ${d.droppedSpans ?? '—'} dropped`}</dd>
        <dt>Capture</dt>
        <dd>{d.failingSources.length > 0 ? d.failingSources.map((s) => `${s.name}: ${s.problem}`).join('; ') : 'working'}</dd>
      </dl>
      {d.revokedAt ? (
        <p>{`Revoked ${whenIn(d.revokedAt, props.timeZone)}: it can no longer sync.`}</p>
      ) : (
        <>
          <h2>Assign to a person</h2>
          <form method="post" action={`${DEVICES_PAGE}/${d.deviceId}/assign`} aria-label="Assign to a person">
            <input type="hidden" name="_csrf" value={props.csrf} />
            <label for="person">Person (email)</label>
            <input id="person" name="person" type="email" autocomplete="off" value={props.values?.['person'] ?? d.owner?.email ?? ''} />
            <button type="submit">Assign</button>
          </form>
          {d.owner ? <ActionButton action={`${DEVICES_PAGE}/${d.deviceId}/unassign`} csrf={props.csrf} label="Unassign (bind to no one)" /> : null}
          <h2>Revoke</h2>
          <p>A revoked device cannot sync again; its person's data already stored stays.</p>
          <p>
            <a class="button danger" href={`${DEVICES_PAGE}/${d.deviceId}/revoke`}>
              Revoke this device…
            </a>
          </p>
        </>
      )}
    </Layout>
  );
}

/** The question before revoking: what it is, whose it is, what happens. The form posts the confirmation. */
export function RevokeConfirmPage(props: { user: SignedInUser; csrf: string; device: DeviceView; timeZone: string } & PageMessages) {
  const d = props.device;
  return (
    <Layout title="Revoke this device?" width="reading" user={props.user} current={DEVICES_PAGE}>
      <Problems message={props.error} fields={props.fields} />
      <p>
        <strong>{d.name}</strong>
        {` (${d.platform}, OS account ${d.osUser}${d.owner ? `, records for ${d.owner.name}` : ''}; last sync ${d.lastSyncAt ? whenIn(d.lastSyncAt, props.timeZone) : 'never'})`}
      </p>
      <p>
        It stops syncing at once and cannot enroll again with its key. Anything it has not sent yet stays on the computer. This cannot be undone: to use the
        computer again, enroll it again with a token.
      </p>
      <form method="post" action={`${DEVICES_PAGE}/${d.deviceId}/revoke`} aria-label="Confirm revocation">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <input type="hidden" name="confirm" value="revoke" />
        <button type="submit" class="danger">{`Yes, revoke ${d.name}`}</button>
        <a class="button secondary" href={`${DEVICES_PAGE}/${d.deviceId}`}>
          No, keep it
        </a>
      </form>
    </Layout>
  );
}

function InstallCommands(props: { commands: InstallCommand[] }) {
  return (
    <section aria-label="Silent-install commands">
      <h2>Install with this token</h2>
      {props.commands.map((c, i) => (
        <div class="command">
          <h3>{c.os}</h3>
          <p>{c.how}</p>
          <pre id={`install-${i}`} tabindex={0}>
            {c.text}
          </pre>
          <button type="button" class="secondary" data-copy={`install-${i}`}>
            {`Copy the ${c.os} command`}
          </button>
        </div>
      ))}
    </section>
  );
}

export const TOKEN_FIELD_LABELS: Record<string, string> = {
  label: 'Label',
  validDays: 'Valid for (days)',
  maxUses: 'Use limit',
  teamId: 'Team',
  userId: 'For one person',
};

export function TokensPage(
  props: {
    user: SignedInUser;
    csrf: string;
    tokens: Tokens;
    teams: { id: string; name: string }[];
    people: Person[];
    timeZone: string;
    created?: { token: string; expiresAt: string; commands: InstallCommand[] };
    values?: Record<string, string>;
  } & PageMessages,
) {
  const v = props.values ?? {};
  const invalid = new Set((props.fields ?? []).map((f) => f.path));
  const field = (name: string) => ({ id: name, name, 'aria-invalid': invalid.has(name) ? 'true' : undefined });
  return (
    <Layout title="Enrollment tokens" user={props.user} current="/admin/enrollment-tokens" scripts={['copy.js']}>
      <FormProblems message={props.error} fields={props.fields} labels={TOKEN_FIELD_LABELS} />
      <Info text={props.info} />
      {props.created ? (
        <div class="notice info" role="status">
          <p>New token, shown this once (valid until {whenIn(props.created.expiresAt, props.timeZone)}):</p>
          <p>
            <code id="new-token">{props.created.token}</code>
          </p>
        </div>
      ) : null}
      {props.created ? <InstallCommands commands={props.created.commands} /> : null}
      <form method="post" action="/admin/enrollment-tokens" aria-label="New enrollment token">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="label">Label</label>
        <input {...field('label')} value={v.label ?? ''} />
        <label for="validDays">Valid for (days)</label>
        <input {...field('validDays')} inputmode="numeric" value={v.validDays ?? '30'} />
        <label for="maxUses">Use limit</label>
        <input {...field('maxUses')} inputmode="numeric" value={v.maxUses ?? '50'} />
        <label for="teamId">Team</label>
        <select {...field('teamId')}>
          <option value="">no team</option>
          {props.teams.map((t) => (
            <option value={t.id} selected={v.teamId === t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <label for="userId">For one person (binds every device enrolled with it to them)</label>
        <select {...field('userId')}>
          <option value="">fleet token: devices stay unbound until paired or assigned</option>
          {props.people.map((p) => (
            <option value={p.id} selected={v.userId === p.id}>{`${p.name} <${p.email}>`}</option>
          ))}
        </select>
        <button type="submit">Create token</button>
      </form>
      <div class="table-wrap">
        <table class="cards" aria-label="Enrollment tokens">
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Team</th>
              <th scope="col">State</th>
              <th scope="col">Uses</th>
              <th scope="col">Expires</th>
              <th scope="col">Created</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {props.tokens.map((t) => (
              <tr>
                <td data-label="Label">{t.label}</td>
                <td data-label="Team">{t.team?.name ?? '—'}</td>
                <td data-label="State">{t.state.replace('_', ' ')}</td>
                <td data-label="Uses">
                  {t.uses} / {t.maxUses}
                </td>
                <td data-label="Expires">{whenIn(t.expiresAt, props.timeZone)}</td>
                <td data-label="Created">{whenIn(t.createdAt, props.timeZone)}</td>
                <td data-label="Action">
                  {t.state === 'revoked' ? (
                    ''
                  ) : (
                    <ActionButton action={`/admin/enrollment-tokens/${t.tokenId}/revoke`} csrf={props.csrf} label="Revoke" danger />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
