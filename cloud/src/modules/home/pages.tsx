import type { SignedInUser } from '../../platform/env';
import { DataTable, Info, when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { AdminHome, ManagerHome, OwnWeek } from './service';

/** 9 h 05 min: durations as people read them. */
export function hoursMinutes(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min`;
}
const percent = (share: number | null) => (share === null ? '—' : `${Math.round(share * 100)} %`);
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The person's own week and their rights: every role has a home in their own data. */
function OwnWeekSection(props: { week: OwnWeek; heading: string }) {
  const { week } = props;
  const apps = [...week.apps].sort((a, b) => b.activeMs - a.activeMs).slice(0, 5);
  return (
    <section aria-labelledby="own-week">
      <h2 id="own-week">{props.heading}</h2>
      <p>
        {week.range.from} to {week.range.to} ({week.range.timeZone}):{' '}
        {week.totals.activeMs > 0 ? (
          <>
            <strong>{hoursMinutes(week.totals.activeMs)}</strong> active, {hoursMinutes(week.totals.idleMs)} idle.
          </>
        ) : (
          'nothing recorded yet this week.'
        )}
      </p>
      {apps.length > 0 ? (
        <DataTable label="Your apps this week" head={['App', 'Category', 'Active']} numeric={[false, false, true]}>
          {apps.map((a) => (
            <tr>
              <td>{a.app}</td>
              <td>{a.category}</td>
              <td class="num">{hoursMinutes(a.activeMs)}</td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <h3>Your rights</h3>
      <p>You can see everything recorded about you, who viewed it and when, export it, and have it erased.</p>
      <ul class="links">
        <li>
          <a href="/me/data">My data</a>: what is recorded, who viewed it, export and erasure
        </li>
        <li>
          <a href="/me/devices">My computers</a>: which computers record for you, and pairing a new one
        </li>
      </ul>
    </section>
  );
}

export function EmployeeHome(props: { user: SignedInUser; week: OwnWeek }) {
  return (
    <Layout title={`Hello, ${props.user.name}`} width="reading" user={props.user} current="/">
      <OwnWeekSection week={props.week} heading="Your week" />
    </Layout>
  );
}

export function ManagerHomePage(props: { user: SignedInUser; home: ManagerHome }) {
  const { home } = props;
  return (
    <Layout title="Your teams" width="wide" user={props.user} current="/">
      <p>
        The last four weeks, {home.from} to {home.today}. Figures for groups smaller than the policy allows are hidden, as in the team report.
      </p>
      {home.summaries.length === 0 ? <p>You manage no team yet. Your administrator assigns managers in the directory.</p> : null}
      <div class="home-cards">
        {home.summaries.map((s) => (
          <section class="home-card" aria-labelledby={`team-${s.team.id}`}>
            <h2 id={`team-${s.team.id}`}>{s.team.name}</h2>
            {s.hidden ? (
              <p>{s.hidden.explanation}</p>
            ) : (
              <dl>
                <dt>People</dt>
                <dd>{s.people ?? '—'}</dd>
                <dt>Active time</dt>
                <dd>{s.totals ? hoursMinutes(s.totals.activeMs) : '—'}</dd>
                <dt>Productive share</dt>
                <dd>{percent(s.totals?.productiveShare ?? null)}</dd>
                <dt>Focus per person per day</dt>
                <dd>{s.focus ? hoursMinutes(s.focus.msPerPersonDay) : '—'}</dd>
                <dt>After hours{s.afterHours ? ` (outside ${s.afterHours.outside})` : ''}</dt>
                <dd>{percent(s.afterHours?.share ?? null)}</dd>
                {s.topApps[0] ? (
                  <>
                    <dt>Top app</dt>
                    <dd>{s.topApps[0].app}</dd>
                  </>
                ) : null}
              </dl>
            )}
            {s.highlights.length > 0 ? (
              <>
                <h3 class="what-changed">What changed against the previous four weeks</h3>
                <ul class="highlights">
                  {s.highlights.slice(0, 3).map((h) => (
                    <li>{h}</li>
                  ))}
                </ul>
              </>
            ) : null}
            <p>
              <a href={`/reports/team?teamId=${s.team.id}&from=${s.range.from}&to=${s.range.to}`}>Open the team report</a>
            </p>
          </section>
        ))}
      </div>
      <p>
        Your own data: <a href="/me/data">My data</a>.
      </p>
    </Layout>
  );
}

function Attention(props: { ok: boolean; children: unknown }) {
  return <li class={props.ok ? 'ok' : 'attention'}>{props.children}</li>;
}

export function AdminHomePage(props: { user: SignedInUser; home: AdminHome; csrf: string; invited?: number | undefined }) {
  const { home } = props;
  const { devices, consent, chain } = home;
  const pending = consent.pendingReconsent + consent.noDecision;
  return (
    <Layout title="Your organisation" width="wide" user={props.user} current="/">
      <Info text={props.invited !== undefined ? `${plural(props.invited, 'invitation was', 'invitations were')} sent.` : undefined} />
      <h2>Needs attention</h2>
      <ul class="attention-list">
        <Attention ok={devices.silent === 0 && devices.dropping === 0}>
          {devices.silent === 0 && devices.dropping === 0 ? (
            `All ${plural(devices.active, 'active device', 'active devices')} synced recently and dropped nothing.`
          ) : (
            <>
              {plural(devices.silent, 'device is', 'devices are')} silent and {plural(devices.dropping, 'device', 'devices')} dropped spans.{' '}
              <a href="/admin/devices">Devices</a>
              <ul>
                {devices.listed.map((d) => (
                  <li>
                    {d.name}: last sync {when(d.lastSyncAt)}
                    {(d.droppedSpans ?? 0) > 0 ? `, ${d.droppedSpans} spans dropped` : ''}
                  </li>
                ))}
              </ul>
            </>
          )}
        </Attention>
        <Attention ok={pending === 0}>
          {pending === 0 ? (
            `Everyone has decided on policy version ${consent.policyVersion ?? '—'}.`
          ) : (
            <>
              {plural(consent.pendingReconsent, 'person has', 'people have')} to decide again on a wider policy, {consent.noDecision} have not decided yet (of{' '}
              {consent.people}). <a href="/audit/compliance">Consent coverage</a>
            </>
          )}
        </Attention>
        <Attention ok={home.awaitingApproval.length === 0}>
          {home.awaitingApproval.length === 0 ? (
            `No policy version is awaiting approval${home.drafts.length > 0 ? ` (${plural(home.drafts.length, 'draft', 'drafts')} in preparation)` : ''}.`
          ) : (
            <>
              {plural(home.awaitingApproval.length, 'policy version awaits', 'policy versions await')} approval:{' '}
              {home.awaitingApproval.map((v, i) => (
                <>
                  {i > 0 ? ', ' : ''}
                  <a href={`/admin/policies/${v.version}`}>version {v.version}</a>
                </>
              ))}
            </>
          )}
        </Attention>
        <Attention ok={chain.ok}>
          {chain.ok ? (
            <>
              {chain.checkpoint ? (
                <>
                  The audit chain is intact since its last signed checkpoint ({when(chain.checkpoint.at)}, entry {chain.checkpoint.size}):{' '}
                  {plural(chain.walked - 1, 'newer entry', 'newer entries')} checked, {plural(chain.entries, 'entry', 'entries')} in all.{' '}
                </>
              ) : (
                <>The audit chain is intact: {plural(chain.entries, 'entry', 'entries')} checked (no signed checkpoint yet). </>
              )}
              <a href="/audit/verify">Verify the whole chain</a> · <a href="/audit">Audit log</a>
            </>
          ) : (
            <>
              <strong>The audit chain does not verify</strong> ({chain.problems.join(', ')}). <a href="/audit">Audit log</a>
            </>
          )}
        </Attention>
        <Attention ok={home.notInvited.count === 0}>
          {home.notInvited.count === 0 ? (
            'Everyone in the directory can sign in or has an open invitation.'
          ) : (
            <>
              {plural(home.notInvited.count, 'person', 'people')} in the directory cannot sign in yet ({home.notInvited.names.join(', ')}
              {home.notInvited.count > home.notInvited.names.length ? ', …' : ''}).{' '}
              {home.notInvited.canInvite ? (
                <form method="post" action="/account/invitations" class="inline">
                  <input type="hidden" name="_csrf" value={props.csrf} />
                  <button type="submit">Invite them by email</button>
                </form>
              ) : (
                'Invitations go by email: configure SMTP_URL to send them.'
              )}
            </>
          )}
        </Attention>
      </ul>
      <h2>Reports</h2>
      <ul class="links">
        <li>
          <a href="/reports/org">Organisation report</a> and <a href="/reports/team">team reports</a>
        </li>
        <li>
          <a href="/audit/compliance">Compliance report</a>
        </li>
      </ul>
    </Layout>
  );
}

export function AuditorHomePage(props: { user: SignedInUser; week: OwnWeek }) {
  return (
    <Layout title="Audit and compliance" width="reading" user={props.user} current="/">
      <ul class="links">
        <li>
          <a href="/audit">The audit log</a>: every read of personal data and every change, hash-chained
        </li>
        <li>
          <a href="/audit/compliance">The compliance report</a>: consent coverage and device health
        </li>
      </ul>
      <OwnWeekSection week={props.week} heading="Your own week" />
    </Layout>
  );
}
