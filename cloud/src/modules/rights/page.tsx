import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { AppEnv, SignedInUser, RequireUser } from '../../platform/env';
import { readForm } from '../../platform/http/body';
import { DataTable, Notice, when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { OwnSpan, Principal, RightsService, Viewer } from './service';

export const MY_DATA_PAGE = '/me/data';

const minutes = (ms: number) => `${Math.round(ms / 600) / 100} min`;

function MyDataPage(props: {
  user: SignedInUser;
  spans: OwnSpan[];
  viewers: Viewer[];
  erasures: Awaited<ReturnType<RightsService['erasures']>>;
  csrf: string;
  info?: string | undefined;
}) {
  return (
    <Layout title="My data" width="reading" user={props.user} current={MY_DATA_PAGE}>
      <Notice kind="info" text={props.info} />
      <h2>Recorded in the last 24 hours</h2>
      {props.spans.length === 0 ? (
        <p>Nothing recorded.</p>
      ) : (
        <DataTable label="Recorded in the last 24 hours" head={['Start', 'Length', 'Application', 'Title', 'Idle']} numeric={[false, true]}>
          {props.spans.map((s) => (
            <tr>
              <td>{when(s.start)}</td>
              <td class="num">{minutes(s.durationMs)}</td>
              <td>{s.app ?? ''}</td>
              <td>{s.title ?? ''}</td>
              <td>{s.idle ? 'yes' : ''}</td>
            </tr>
          ))}
        </DataTable>
      )}
      <h2>Who viewed my data</h2>
      {props.viewers.length === 0 ? (
        <p>No manager, admin or auditor has read your data.</p>
      ) : (
        <ul>
          {props.viewers.map((v) => (
            <li>{`${when(v.at)}: ${v.actor.name} (${v.actor.role}) — ${v.action}`}</li>
          ))}
        </ul>
      )}
      <h2>My computers</h2>
      <p>
        <a href="/me/devices">Pair a computer, or see which computers record as you</a>
      </p>
      <h2>Export</h2>
      <p>
        <a href="/api/me/export?format=json">All my data as JSON</a> · <a href="/api/me/export?format=csv">as CSV</a>
      </p>
      <h2>Erase</h2>
      <p>Removes every recorded span and your share of team totals. The audit log keeps that you asked and that it was done.</p>
      <form method="post" action={`${MY_DATA_PAGE}/erasure`}>
        <input type="hidden" name="_csrf" value={props.csrf} />
        <p>
          <label class="check">
            <input type="checkbox" name="eraseLocal" value="true" /> Also wipe what my devices still hold
          </label>
        </p>
        <button type="submit">Erase my data</button>
      </form>
      {props.erasures.length > 0 && (
        <ul>
          {props.erasures.map((e) => (
            <li>{`${when(e.requestedAt)}: ${e.state}${e.spansRemoved === null ? '' : `, ${e.spansRemoved} spans removed`}`}</li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

/** A plain server-rendered page over the same service as /api/me: works without scripts. */
export function rightsPageRoutes(deps: { rights: RightsService; requireUser: RequireUser; csrfOf: (c: Context<AppEnv>) => Promise<string> }) {
  const { rights } = deps;
  const principal = (c: Context<AppEnv>): Principal => {
    const user = c.get('user');
    return { orgId: user.orgId, userId: user.userId, via: 'web', actorType: 'user', actorId: user.userId };
  };
  return new Hono<AppEnv>()
    .get(MY_DATA_PAGE, deps.requireUser(), async (c) => {
      const who = principal(c);
      const to = new Date();
      const [spans, viewers, erasures] = await Promise.all([
        rights.spans(who, { from: new Date(to.getTime() - 86_400_000), to }, 500),
        rights.viewers(who, 100),
        rights.erasures(who),
      ]);
      const info = c.req.query('requested') ? 'Your erasure request was received; you will get a confirmation when it is done.' : undefined;
      return c.html(<MyDataPage user={c.get('user')} spans={spans} viewers={viewers} erasures={erasures} csrf={await deps.csrfOf(c)} info={info} />);
    })
    .post(`${MY_DATA_PAGE}/erasure`, deps.requireUser(), async (c) => {
      const form = await readForm(c);
      await rights.requestErasure(principal(c), form['eraseLocal'] === 'true');
      return c.redirect(`${MY_DATA_PAGE}?requested=1`, 303);
    });
}
