import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { safeNext } from './page-routes';

// Known ways to turn a "local path" into another origin in browsers or in URL parsers.
const BYPASSES = [
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '//evil.example',
  '/\\evil.example',
  '\\/evil.example',
  '/\\/evil.example',
  '///evil.example',
  'https://evil.example',
  'http:evil.example',
  '//evil.example/%2F..',
  ' /\t/evil.example',
  '/\u0000/evil.example',
  '/\u007f/evil.example',
  'javascript:alert(1)',
  '/%0d%0aSet-Cookie:x=1'.replace('%0d%0a', '\r\n'),
  '',
  'evil.example',
];

describe('the address signed-in people are sent to', () => {
  it.each(BYPASSES.map((b) => [JSON.stringify(b), b]))('refuses %s and sends people home', (_, next) => {
    expect(safeNext(next)).toBe('/');
  });

  it.each([
    ['/reports', '/reports'],
    ['/reports?team=1#top', '/reports?team=1#top'],
    ['/admin/policies/3', '/admin/policies/3'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
  ])('keeps the same-origin path %s', (next, kept) => {
    expect(safeNext(next)).toBe(kept);
  });
});

describe.each(testDatabaseKinds())('the sign-in page with a hostile next (%s)', (kind) => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(kind);
  });
  afterAll(() => cloud?.stopAll());

  it.each(['%2F%09%2Fevil.example', '%2F%0D%0A%2Fevil.example', '%2F%5Cevil.example'])('renders with next=/ for ?next=%s', async (query) => {
    const response = await cloud.fetchPath(`/sign-in?next=${query}`);
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).not.toContain('evil.example');
    expect(page).toMatch(/name="next" value="\/"/);
  });
});
