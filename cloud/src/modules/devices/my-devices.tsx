// The person's side of binding: their computers, a pairing code for a new one, and
// "this is not my computer" for one bound to them by mistake.
import { Hono, type Context } from 'hono';
import type { AppEnv, RequireUser, SignedInUser } from '../../platform/env';
import { z } from 'zod';
import { AppError } from '../../platform/errors';
import { Notice } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { BindingService } from './binding';

export const MY_DEVICES = {
  page: '/me/devices',
  api: '/api/me/devices',
  pairingCodes: '/api/me/pairing-codes',
  disown: '/api/me/devices/:deviceId/disown',
} as const;

/** A malformed id is "not found", like a device of someone else. */
function deviceParam(c: Context): string {
  const parsed = z.uuid().safeParse(c.req.param('deviceId'));
  if (!parsed.success) throw new AppError('not_found', 'No such device bound to you', [{ path: 'deviceId', problem: 'not found' }]);
  return parsed.data;
}

type MyDevice = Awaited<ReturnType<BindingService['devicesOf']>>[number];

/** Shown as ABCD-EFGH: two groups are easier to read out and type than eight in a row. */
const grouped = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

function MyDevicesPage(props: {
  user: SignedInUser;
  devices: MyDevice[];
  csrf: string;
  code?: { code: string; expiresAt: Date } | undefined;
  info?: string | undefined;
}) {
  return (
    <Layout title="My computers" width="reading" user={props.user} current={MY_DEVICES.page}>
      <Notice kind="info" text={props.info} />
      <p>Only computers bound to you record data as you. A computer is bound to you by a pairing code you make here, or by IT.</p>
      <h2>Pair a computer</h2>
      {props.code ? (
        <div class="notice info" role="status">
          <p>Your pairing code, valid once until {props.code.expiresAt.toISOString().slice(11, 16)} UTC (10 minutes):</p>
          <p>
            <code id="pairing-code">{grouped(props.code.code)}</code>
          </p>
          <p>
            Type it into the agent's consent screen, or run <code>icarus-agent pair {grouped(props.code.code)}</code> on that computer.
          </p>
        </div>
      ) : (
        <form method="post" action={`${MY_DEVICES.page}/pairing-code`}>
          <input type="hidden" name="_csrf" value={props.csrf} />
          <button type="submit">Make a pairing code</button>
        </form>
      )}
      <h2>Bound to me</h2>
      {props.devices.length === 0 ? (
        <p>No computer is bound to you.</p>
      ) : (
        <ul>
          {props.devices.map((d) => (
            <li>
              {`${d.name} (${d.platform}, OS account ${d.osUser}), last sync ${d.lastSeenAt?.toISOString() ?? 'never'}`}
              <form method="post" action={`${MY_DEVICES.page}/${d.deviceId}/disown`}>
                <input type="hidden" name="_csrf" value={props.csrf} />
                <button type="submit" class="link">
                  This is not my computer
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

export function myDevicesRoutes(deps: { bindings: BindingService; requireUser: RequireUser; csrfOf: (c: Context<AppEnv>) => Promise<string> }) {
  const { bindings } = deps;
  const me = (c: Context<AppEnv>): Pick<SignedInUser, 'orgId' | 'userId'> => c.get('user');
  const list = async (c: Context<AppEnv>) => (await bindings.devicesOf(me(c))).map((d) => ({ ...d, lastSeenAt: d.lastSeenAt?.toISOString() ?? null }));
  return (
    new Hono<AppEnv>()
      .get(MY_DEVICES.api, deps.requireUser(), async (c) => c.json({ devices: await list(c) }))
      .post(MY_DEVICES.pairingCodes, deps.requireUser(), async (c) => {
        const made = await bindings.createPairingCode(me(c));
        return c.json({ code: made.code, expiresAt: made.expiresAt.toISOString() }, 201);
      })
      .post(MY_DEVICES.disown, deps.requireUser(), async (c) => {
        await bindings.disown(me(c), deviceParam(c));
        return c.body(null, 204);
      })
      .get(MY_DEVICES.page, deps.requireUser(), async (c) => {
        const info = c.req.query('done') === 'disowned' ? 'That computer no longer records anything as you.' : undefined;
        return c.html(<MyDevicesPage user={c.get('user')} devices={await bindings.devicesOf(me(c))} csrf={await deps.csrfOf(c)} info={info} />);
      })
      // The code is rendered into this answer only (never into a URL), so it is not in history or logs.
      .post(`${MY_DEVICES.page}/pairing-code`, deps.requireUser(), async (c) => {
        const code = await bindings.createPairingCode(me(c));
        return c.html(<MyDevicesPage user={c.get('user')} devices={await bindings.devicesOf(me(c))} csrf={await deps.csrfOf(c)} code={code} />);
      })
      .post(`${MY_DEVICES.page}/:deviceId/disown`, deps.requireUser(), async (c) => {
        await bindings.disown(me(c), deviceParam(c));
        return c.redirect(`${MY_DEVICES.page}?done=disowned`, 303);
      })
  );
}
