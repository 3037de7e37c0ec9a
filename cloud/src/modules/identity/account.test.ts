import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminTestbed, type AdminTestbed } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { CookieClient, PASSWORD } from '../../../test/support/people';
import { startSmtpServer, waitFor } from '../../../test/support/servers';
import { createAccountService, type AccountMail } from './account';
import { createAccountStore } from './account-store';
import { createSessionStore } from './session-store';
import { createSignInThrottle } from './throttle';
import { createDatabaseRateLimitStore, createThrottleStore } from './throttle-store';
import { totpCode } from './totp';

const NEW_PASSWORD = 'a brand new long password';
type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

/**
 * The account lifecycle over HTTP, as a browser and an admin's script use it: invitations and
 * password resets by mail (the real SMTP test server), one-time links, password change,
 * sessions, recovery codes, and the TOTP set-up that keeps its secret after a wrong code.
 */
describe.each(testDatabaseKinds())('the account lifecycle on %s', (kind) => {
  let bed: AdminTestbed;
  let smtp: Smtp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    bed = await startAdminTestbed(kind, 'acct', { SMTP_URL: smtp.url, NOTIFY_POLL_MS: '50' });
  }, 120_000);
  afterAll(async () => {
    await bed?.stop();
    await smtp?.close();
  });

  const url = (path: string) => `${bed.cloud.url}${path}`;
  const mailTo = (email: string, subject: RegExp) => waitFor(() => smtp.mails.find((m) => m.to.includes(email) && subject.test(m.subject)));
  const linkIn = (raw: string, kind: 'invitation' | 'reset') => {
    const found = new RegExp(`https?://[^\\s"<>]+(/sign-in/${kind}/[A-Za-z0-9_-]{43})`).exec(raw)?.[1];
    if (!found) throw new Error(`no ${kind} link in the mail`);
    return found;
  };
  /** GETs a page (keeping the pre-session CSRF cookie) and returns its form's token. */
  async function csrfOfPage(browser: CookieClient, path: string) {
    const page = await browser.fetch(url(path));
    const html = await page.text();
    return { status: page.status, html, csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '' };
  }
  const post = (browser: CookieClient, path: string, fields: Record<string, string>) =>
    browser.fetch(url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  const tables = async () =>
    (
      await bed.cloud.database.rows<{ h: string }>(
        sql`select md5(coalesce((select string_agg(password_hash, ',' order by id) from users), '') || coalesce((select string_agg(id || coalesce(used_at::text, ''), ',' order by id) from account_tokens), '')) as h`,
      )
    )[0]?.h;

  it('invites imported people in bulk; the link sets a password once and signs the person in to their home', async () => {
    const { directory, importer } = bed.cloud.cloud.services;
    const { orgA } = bed;
    await importer.importCsv({
      orgId: orgA.orgId,
      actorUserId: orgA.people.admin.id,
      text: 'email,name,osUser,team,managerEmail,role\nnew.one@acct.example,New One,newone,Sales,,employee\nnew.two@acct.example,New Two,newtwo,Sales,,employee',
      dryRun: false,
    });
    const admin = await bed.as('admin');
    const pending = (await (await admin.get('/api/invitations/pending')).json()) as { people: { email: string }[] };
    expect(pending.people.map((p) => p.email).sort()).toEqual(['new.one@acct.example', 'new.two@acct.example']);

    const sent = await admin.send('POST', '/api/invitations', { everyoneNotYetInvited: true });
    expect(sent.status).toBe(201);
    const result = (await sent.json()) as { invited: { email: string }[]; skipped: unknown[] };
    expect(result.invited.map((i) => i.email).sort()).toEqual(['new.one@acct.example', 'new.two@acct.example']);
    // Invited people are no longer "not yet invited"; someone with a password is skipped, saying why.
    expect(((await (await admin.get('/api/invitations/pending')).json()) as { people: unknown[] }).people).toEqual([]);
    const again = (await (await admin.send('POST', '/api/invitations', { userIds: [orgA.people.employee.id] })).json()) as { skipped: { reason: string }[] };
    expect(again.skipped[0]?.reason).toMatch(/has a password already/);

    const mail = await mailTo('new.one@acct.example', /invited/);
    const link = linkIn(mail.raw, 'invitation');
    // At rest: only the link's sha256, and the delivered mail's content is gone from the outbox.
    const token = link.split('/').pop() ?? '';
    const [stored] = await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from account_tokens where id = ${token}`);
    expect(stored?.n).toBe(0);
    const [hashed] = await bed.cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from account_tokens where id = ${createHash('sha256').update(token).digest('hex')}`,
    );
    expect(hashed?.n).toBe(1);
    await waitFor(async () => {
      const rows = await bed.cloud.database.rows<{ payload: unknown }>(
        sql`select payload from notification_outbox where event = 'account.invitation' and status = 'delivered'`,
      );
      return rows.length === 2 ? rows : undefined;
    });
    const [leaked] = await bed.cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from notification_outbox where payload::text like ${`%${token}%`}`,
    );
    expect(leaked?.n).toBe(0);

    const browser = new CookieClient();
    const form = await csrfOfPage(browser, link);
    expect(form.status).toBe(200);
    expect(form.html).toContain('New One, choose a password to sign in as new.one@acct.example');

    // Too short: 400 naming the field, nothing stored changes, the link still works.
    const before = await tables();
    const short = await post(browser, link, { _csrf: form.csrf, password: 'short', confirm: 'short' });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('<code>password</code>: must be at least 12 characters');
    expect(await tables()).toBe(before);

    const set = await post(browser, link, { _csrf: form.csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(set.status).toBe(303);
    expect(set.headers.get('location')).toBe('/');
    const home = await browser.follow(url('/'));
    expect(home.response.status).toBe(200);
    const html = await home.response.text();
    expect(html).toContain('Your week');
    expect(html).toContain('<a href="/me/data">My data</a>');

    // Once only: the same link again is refused, as a page.
    const reused = await new CookieClient().fetch(url(link));
    expect(reused.status).toBe(404);
    expect(await reused.text()).toContain('This link no longer works');
    const person = await directory.findUserByEmail(orgA.orgId, 'new.one@acct.example');
    expect(person?.passwordHash).toBeTruthy();
  }, 120_000);

  it('forgot password: the same answer for anyone, a link for a real account only, single use, other sessions ended', async () => {
    const { orgA } = bed;
    const email = orgA.people.teammate.email;
    const elsewhere = await bed.cloud.cloud.services.auth.signInWithPassword({ email, password: PASSWORD });
    const ask = async (who: string) => {
      const browser = new CookieClient();
      const { csrf } = await csrfOfPage(browser, '/sign-in/forgot');
      const answer = await post(browser, '/sign-in/forgot', { _csrf: csrf, email: who });
      return { status: answer.status, text: (await answer.text()).replace(who, 'EMAIL') };
    };
    const unknown = await ask('nobody@acct.example');
    const known = await ask(email);
    expect(known).toEqual(unknown);
    expect(known.text).toContain('If an account has the address EMAIL, a link to set a new password is on its way');
    await bed.cloud.cloud.services.account.settle();

    const mail = await mailTo(email, /new Icarus Nova password/);
    expect(smtp.mails.some((m) => m.to.includes('nobody@acct.example'))).toBe(false);
    const link = linkIn(mail.raw, 'reset');
    const browser = new CookieClient();
    const { csrf } = await csrfOfPage(browser, link);
    const mismatch = await post(browser, link, { _csrf: csrf, password: NEW_PASSWORD, confirm: 'something else entirely' });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain('<code>confirm</code>: does not match the new password');

    expect((await post(browser, link, { _csrf: csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD })).status).toBe(303);
    expect(await bed.cloud.cloud.services.auth.resolve(elsewhere.token)).toBeUndefined();
    expect((await post(browser, link, { _csrf: csrf, password: 'yet another long password', confirm: 'yet another long password' })).status).toBe(404);
    await expect(bed.cloud.cloud.services.auth.signInWithPassword({ email, password: NEW_PASSWORD })).resolves.toBeDefined();
  }, 120_000);

  it('a reset link expires, and at most three reset mails go to one address whoever asks', async () => {
    const email = bed.orgB.people.teammate.email;
    const { account } = bed.cloud.cloud.services;
    const resets = () => smtp.mails.filter((m) => m.to.includes(email) && m.subject === 'Set a new Icarus Nova password');
    for (let i = 0; i < 5; i++) account.requestReset(email, `198.51.100.${i}`);
    await account.settle();
    const mails = await waitFor(() => {
      const found = resets();
      return found.length >= 3 ? found : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(resets()).toHaveLength(3);
    // Only the newest link works, even when they were asked for at once: each new one retires the ones before it.
    const statuses = await Promise.all(mails.map(async (m) => ({ link: linkIn(m.raw, 'reset'), status: (await fetch(url(linkIn(m.raw, 'reset')))).status })));
    expect(statuses.map((s) => s.status).sort()).toEqual([200, 404, 404]);
    const newest = statuses.find((s) => s.status === 200)?.link ?? '';
    const token = newest.split('/').pop() ?? '';
    await bed.cloud.database.rows(
      sql`update account_tokens set expires_at = now() - interval '1 second' where id = ${createHash('sha256').update(token).digest('hex')}`,
    );
    expect((await fetch(url(newest))).status).toBe(404);
  }, 120_000);

  it('a wrong code during TOTP set-up keeps the scanned secret; recovery codes are shown once, work once, and can be replaced', async () => {
    const { orgA } = bed;
    const email = orgA.people.auditor.email;
    const browser = new CookieClient();
    const { csrf } = await csrfOfPage(browser, '/sign-in');
    await post(browser, '/sign-in', { _csrf: csrf, email, password: PASSWORD });
    const security = await csrfOfPage(browser, '/account/security');
    const begun = await post(browser, '/account/security/totp', { _csrf: security.csrf });
    const page = await begun.text();
    expect(page).toMatch(/<div class="qr" role="img"[^>]*><svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const secret = /Setup key: <code class="secret">([A-Z2-7]+)<\/code>/.exec(page)?.[1] ?? '';
    expect(secret).not.toBe('');

    const wrong = await post(browser, '/account/security/totp/confirm', { _csrf: security.csrf, code: '000000' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain(`<code class="secret">${secret}</code>`);

    const confirmed = await post(browser, '/account/security/totp/confirm', { _csrf: security.csrf, code: totpCode(secret, Date.now()) });
    expect(confirmed.status).toBe(200);
    const codes = [...(await confirmed.text()).matchAll(/<li><code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})<\/code><\/li>/g)].map((m) => m[1] ?? '');
    expect(codes).toHaveLength(10);
    const [stored] = await bed.cloud.database.rows<{ hashes: string }>(
      sql`select string_agg(hash, ' ') as hashes from recovery_codes where user_id = ${orgA.people.auditor.id}`,
    );
    for (const code of codes) expect(stored?.hashes).not.toContain(code.replace(/-/g, ''));
    // Shown once: the page does not show them again.
    expect((await csrfOfPage(browser, '/account/security')).html).not.toContain(codes[0]);

    const { auth } = bed.cloud.cloud.services;
    let tries = 0;
    const withCode = async (code: string) => {
      // Each try from an address of its own: a failed one stays counted against its address.
      const address = `203.0.113.${++tries}`;
      const started = await auth.signInWithPassword({ email, password: PASSWORD, address });
      expect(started.stage).toBe('needs_totp');
      return auth.verifyTotp(started.session.id, code, address);
    };
    await expect(withCode(codes[0] ?? '')).resolves.toBeUndefined();
    await expect(withCode(codes[0] ?? '')).rejects.toThrow(/wrong, expired or already used/);
    await expect(withCode((codes[1] ?? '').toUpperCase().replace(/-/g, ' '))).resolves.toBeUndefined();

    const replaced = await post(browser, '/account/security/recovery-codes', { _csrf: security.csrf });
    expect(replaced.status).toBe(200);
    expect(await replaced.text()).toContain('the earlier ones no longer work');
    await expect(withCode(codes[2] ?? '')).rejects.toThrow(/wrong, expired or already used/);
  }, 120_000);

  it('changing the password checks the current one, ends other sessions, and the sessions list ends one at a time', async () => {
    const { orgA } = bed;
    const email = orgA.people.outsider.email;
    const { auth } = bed.cloud.cloud.services;
    const other = await auth.signInWithPassword({ email, password: PASSWORD, address: '198.51.100.77' });
    const third = await auth.signInWithPassword({ email, password: PASSWORD, address: '198.51.100.78' });
    const browser = new CookieClient();
    const { csrf } = await csrfOfPage(browser, '/sign-in');
    await post(browser, '/sign-in', { _csrf: csrf, email, password: PASSWORD });
    const account = await csrfOfPage(browser, '/account');
    expect(account.html).toContain('198.51.100.77');
    expect(account.html).toContain('this browser');

    expect((await post(browser, `/account/sessions/${third.session.id}/end`, { _csrf: account.csrf })).status).toBe(303);
    expect(await auth.resolve(third.token)).toBeUndefined();
    expect(await auth.resolve(other.token)).toBeDefined();

    const before = await tables();
    const wrong = await post(browser, '/account/password', { _csrf: account.csrf, current: 'not my password', password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('<code>current</code>: wrong password');
    expect(await tables()).toBe(before);

    const changed = await post(browser, '/account/password', { _csrf: account.csrf, current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(changed.status).toBe(303);
    expect(await auth.resolve(other.token)).toBeUndefined();
    expect((await browser.follow(url('/account'))).response.status).toBe(200);
  }, 120_000);

  it('people of the single sign-on org never get a password: no invitation, no reset mail', async () => {
    const { directory, audit, auth } = bed.cloud.cloud.services;
    const database = bed.cloud.database;
    const sessions = createSessionStore(database);
    const store = createAccountStore(database);
    const throttle = createSignInThrottle({ store: createThrottleStore(database), now: () => new Date() });
    const mails: AccountMail[] = [];
    const sso = createAccountService({
      directory,
      store,
      sessions,
      auth,
      throttle,
      audit,
      limits: createDatabaseRateLimitStore(database),
      publicUrl: () => bed.cloud.url,
      mailEnabled: true,
      ssoOrgId: bed.orgB.orgId,
    });
    sso.onMail(async (mail) => {
      mails.push(mail);
    });
    const newcomer = await directory.createUser({ orgId: bed.orgB.orgId, email: 'sso.person@acct-b.example', name: 'Sso Person', role: 'employee' });
    const admin = (await auth.resolve((await auth.signInWithPassword({ email: bed.orgB.people.auditor.email, password: PASSWORD })).token))?.user;
    if (!admin) throw new Error('no session');
    const result = await sso.invite({ ...admin, role: 'admin' }, [newcomer.id]);
    expect(result.skipped).toEqual([{ userId: newcomer.id, reason: 'signs in with single sign-on' }]);
    expect(await sso.notYetInvited(bed.orgB.orgId)).toEqual([]);
    sso.requestReset(bed.orgB.people.outsider.email, '192.0.2.7');
    await sso.settle();
    expect(mails).toEqual([]);
  });

  it('invitations say why they cannot go without a mail server', async () => {
    const noMail = await startAdminTestbed(kind, 'acct-nomail');
    try {
      const admin = await noMail.as('admin');
      const answer = await admin.send('POST', '/api/invitations', { userIds: [noMail.orgA.people.employee.id] });
      expect(answer.status).toBe(409);
      expect(((await answer.json()) as { error: { fields: { path: string }[] } }).error.fields[0]?.path).toBe('SMTP_URL');
      const bad = await admin.send('POST', '/api/invitations', { userIds: ['not-an-id'] });
      expect(bad.status).toBe(400);
    } finally {
      await noMail.stop();
    }
  }, 120_000);
});
