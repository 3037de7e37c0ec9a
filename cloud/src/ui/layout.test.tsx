import { describe, expect, it } from 'vitest';
import type { Role } from '../platform/env';
import { Layout } from './layout';

async function render(user?: { name: string; role: Role; worksCouncil?: boolean }, current?: string) {
  return String(
    await (
      <Layout title="A page" user={user} current={current}>
        <p>body</p>
      </Layout>
    ).toString(),
  );
}

/** The link labels of one navigation landmark, in order. */
function links(html: string, label: 'Main' | 'Account') {
  const nav = new RegExp(`<nav class="[^"]*" aria-label="${label}">(.*?)</nav>`).exec(html)?.[1] ?? '';
  return [...nav.matchAll(/<a [^>]*>([^<]*)<\/a>/g)].map((m) => m[1]);
}

describe('the page layout', () => {
  it('shows each role the pages it works in, and everyone their own data, account and sign-out', async () => {
    const expected: Record<Role, { main: string[]; account: string[] }> = {
      employee: { main: ['My data'], account: ['Account', 'Sign out'] },
      manager: { main: ['Team report'], account: ['My data', 'Account', 'Sign out'] },
      admin: {
        main: [
          'Team report',
          'Organisation',
          'Policies',
          'People',
          'Teams',
          'Categories',
          'Working week',
          'Webhooks',
          'Devices',
          'Enrollment tokens',
          'Provisioning',
          'Audit log',
          'Compliance report',
        ],
        account: ['My data', 'Account', 'Sign out'],
      },
      auditor: { main: ['Audit log', 'Compliance report'], account: ['My data', 'Account', 'Sign out'] },
    };
    for (const role of ['employee', 'manager', 'admin', 'auditor'] as const) {
      const html = await render({ name: 'Sam', role });
      expect(links(html, 'Main'), role).toEqual(expected[role].main);
      expect(links(html, 'Account'), role).toEqual(expected[role].account);
    }
  });

  it('shows a works-council member who is not an admin the policies, and nothing else of admin', async () => {
    const html = await render({ name: 'Wes', role: 'employee', worksCouncil: true });
    expect(links(html, 'Main')).toEqual(['My data', 'Policies']);
  });

  it('marks the current page and links only hashed stylesheet files, with no inline style or script', async () => {
    const html = await render({ name: 'Sam', role: 'admin' }, '/audit');
    expect(html).toContain('<a href="/audit" aria-current="page">Audit log</a>');
    expect(html).toMatch(/<link rel="stylesheet" href="\/assets\/app\.[0-9a-f]{12}\.css"\/?>/);
    expect(html).not.toMatch(/<style|\sstyle=|<script(?![^>]*src=)/);
  });

  it('gives a page without a signed-in person no navigation', async () => {
    const html = await render();
    expect(html).not.toContain('<nav');
    expect(html).toContain('<h1>A page</h1>');
  });
});
