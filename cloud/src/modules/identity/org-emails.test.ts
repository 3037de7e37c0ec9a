import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { PASSWORD } from '../../../test/support/people';

/** An email is unique per org: the same address may be a person in two orgs, and sign-in finds the right one. */
describe.each(testDatabaseKinds())('one email in two orgs on %s', (kind) => {
  let cloud: TestCloud;
  const orgs = { alpha: '', beta: '' };
  let next = 0;
  // Each call from its own address, so no test meets the throttle of another.
  const from = () => `10.9.${Math.floor(next / 250)}.${next++ % 250}`;

  beforeAll(async () => {
    cloud = await startTestCloud(kind, { TRUST_PROXY: 'true' });
    const { directory } = cloud.cloud.services;
    orgs.alpha = (await directory.createOrg({ name: 'Alpha', timeZone: 'UTC' })).id;
    orgs.beta = (await directory.createOrg({ name: 'Beta', timeZone: 'UTC' })).id;
    await directory.createUser({ orgId: orgs.alpha, email: 'pat@two.example', name: 'Pat Alpha', role: 'employee', password: 'the alpha password' });
    await directory.createUser({ orgId: orgs.beta, email: 'PAT@two.example', name: 'Pat Beta', role: 'employee', password: 'the beta password' });
    await directory.createUser({ orgId: orgs.beta, email: 'sam@two.example', name: 'Sam Beta', role: 'employee', password: PASSWORD });
    await directory.createUser({ orgId: orgs.alpha, email: 'sam@two.example', name: 'Sam Alpha', role: 'employee', password: PASSWORD });
  });
  afterAll(async () => cloud?.stopAll());

  const signIn = (body: Record<string, string>) =>
    cloud.cloud.app.request('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from() },
      body: JSON.stringify(body),
    });
  const cookieOf = (response: Response) =>
    response.headers
      .getSetCookie()
      .find((l) => l.startsWith('icarus_session='))
      ?.split(';')[0];
  async function meOf(response: Response) {
    const me = await cloud.cloud.app.request('/api/me', { headers: { cookie: cookieOf(response) ?? '' } });
    return ((await me.json()) as { user: { orgId: string; name: string } }).user;
  }

  it('each password signs in to its own org; a wrong one is refused as for an email nobody has', async () => {
    const alpha = await signIn({ email: 'pat@two.example', password: 'the alpha password' });
    expect(alpha.status).toBe(201);
    expect(await meOf(alpha)).toMatchObject({ orgId: orgs.alpha, name: 'Pat Alpha' });
    const beta = await signIn({ email: 'Pat@Two.example', password: 'the beta password' });
    expect(beta.status).toBe(201);
    expect(await meOf(beta)).toMatchObject({ orgId: orgs.beta, name: 'Pat Beta' });

    const wrong = await signIn({ email: 'pat@two.example', password: 'neither' });
    const nobody = await signIn({ email: 'nobody@two.example', password: 'neither' });
    expect(wrong.status).toBe(401);
    const shape = async (r: Response) => ({ ...((await r.json()) as { error: object }).error, requestId: undefined });
    expect(await shape(wrong)).toEqual(await shape(nobody));
  });

  it('a password that opens both names the two orgs, sets no session, and the chosen org signs in', async () => {
    const ask = await signIn({ email: 'sam@two.example', password: PASSWORD });
    expect(ask.status).toBe(200);
    expect(cookieOf(ask)).toBeUndefined();
    expect(await ask.json()).toEqual({
      stage: 'choose_organization',
      organizations: [
        { id: orgs.alpha, name: 'Alpha' },
        { id: orgs.beta, name: 'Beta' },
      ],
    });
    const chosen = await signIn({ email: 'sam@two.example', password: PASSWORD, orgId: orgs.beta });
    expect(chosen.status).toBe(201);
    expect(await meOf(chosen)).toMatchObject({ orgId: orgs.beta, name: 'Sam Beta' });

    // The org narrows where the password is tried: Alpha's password does not open Beta.
    expect((await signIn({ email: 'pat@two.example', password: 'the alpha password', orgId: orgs.beta })).status).toBe(401);
    const bad = await signIn({ email: 'sam@two.example', password: PASSWORD, orgId: 'beta' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { fields: { path: string }[] } }).error.fields.map((f) => f.path)).toEqual(['orgId']);
  });

  it('the sign-in form asks for the organization only then, and signs in to the one chosen', async () => {
    const page = await cloud.cloud.app.request('/sign-in');
    const csrf = /icarus_csrf=([^;]+)/.exec(page.headers.getSetCookie().join('\n'))?.[1] ?? '';
    expect(await page.text()).not.toContain('name="orgId"');
    const post = (fields: Record<string, string>) =>
      cloud.cloud.app.request('/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `icarus_csrf=${csrf}`, 'x-forwarded-for': from() },
        body: new URLSearchParams({ ...fields, _csrf: csrf }).toString(),
      });
    const asked = await post({ email: 'sam@two.example', password: PASSWORD });
    expect(asked.status).toBe(200);
    const html = await asked.text();
    expect(html).toContain('<label for="orgId">Organization</label>');
    expect(html).toContain(`<option value="${orgs.alpha}">Alpha</option>`);
    expect(html).toContain(`<option value="${orgs.beta}">Beta</option>`);
    expect(html).not.toContain(PASSWORD);
    const signedIn = await post({ email: 'sam@two.example', password: PASSWORD, orgId: orgs.alpha });
    expect(signedIn.status).toBe(303);
    expect(await meOf(signedIn)).toMatchObject({ orgId: orgs.alpha, name: 'Sam Alpha' });
  });
});
