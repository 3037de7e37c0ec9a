import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { fuzzRoute, fuzzTimeout, headerValue, queryString, unlimited, type FuzzRequest } from '../../../test/support/fuzz';

/**
 * Report, compliance, audit and own-data reads under arbitrary query strings (days at the
 * edges of the calendar, ranges inverted or too long, ids of other orgs, filters with NUL or
 * lone surrogates escaped), as an admin, a manager and an employee, JSON, CSV and pages alike.
 * Never a 5xx; a refused read changes nothing stored.
 */
const RUNS = 150;

describe.each(testDatabaseKinds())('report queries under fuzzing on %s', (kind) => {
  let bed: AdminTestbed;
  let callers: Caller[];

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, 'fuzzq', { NOTIFY_POLL_MS: '60000' }, { rateLimits: unlimited });
    callers = [await bed.as('admin'), await bed.as('manager'), await bed.as('employee'), await bed.as('auditor')];
  });
  afterAll(async () => bed?.stop());

  it(
    'never a 5xx, a refusal changes nothing',
    async () => {
      const { orgA, orgB } = bed;
      const day = fc.oneof(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((t) => new Date(t).toISOString().slice(0, 10)),
        fc.constantFrom(
          '0000-01-01',
          '0000-12-31',
          '0001-01-01',
          '0001-01-28',
          '1969-12-31',
          '9999-12-31',
          '9999-12-01',
          '2024-02-29',
          '2026-02-30',
          '2026-13-01',
        ),
      );
      const instant = fc.oneof(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((t) => new Date(t).toISOString()),
        fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-01-01T00:00:00+14:00', '0000-01-01', '9999-12-31'),
      );
      const id = fc.constantFrom(
        orgA.teamId,
        orgA.otherTeamId,
        orgB.teamId,
        orgA.people.employee.id,
        orgB.people.employee.id,
        '00000000-0000-0000-0000-000000000000',
      );
      const range = { from: day, to: day };
      // Both ends of a range together, often at the edges of the calendar, or one end alone (the other defaults).
      const edge = fc.constantFrom('0000-01-01', '0001-01-01', '1969-12-01', '1970-01-01', '9998-12-01', '9999-01-01', '9999-12-01', '9999-12-31');
      const ranges = fc.oneof(
        fc
          .tuple(edge, fc.integer({ min: 0, max: 400 }))
          .map(([from, n]) => ({ from, to: new Date(Date.parse(`${from}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10) })),
        fc.tuple(edge, fc.constantFrom('from', 'to')).map(([d, end]) => ({ [end]: d })),
        fc.tuple(day, day).map(([from, to]) => ({ from, to })),
      );
      const reads: [string, Record<string, fc.Arbitrary<string>>][] = [
        ['/api/reports/teams', {}],
        ['/api/reports/team-summary', { teamId: id, ...range }],
        ['/api/reports/team-trend', { teamId: id, ...range }],
        ['/api/reports/org-trend', range],
        ['/api/reports/team-comparison', range],
        ['/api/reports/person', { userId: id, ...range }],
        ['/api/reports/export.csv', { teamId: id, level: fc.constantFrom('team', 'person', 'org'), ...range }],
        ['/api/reports/consent-coverage', range],
        ['/api/reports/device-health', {}],
        ['/api/compliance/report', range],
        ['/api/compliance/report.csv', range],
        [
          '/api/audit/events',
          {
            actor: fc.constantFrom(orgA.people.admin.id, 'gateway', 'system'),
            action: fc.constantFrom('auth.sign_in', 'report.*', 'consent.', 'a'),
            subject: id,
            from: instant,
            to: instant,
            before: fc.integer({ min: -1, max: 2 ** 40 }).map(String),
            limit: fc.integer({ min: -1, max: 600 }).map(String),
          },
        ],
        ['/api/audit/export.csv', { from: instant, to: instant, action: fc.constant('auth.*') }],
        ['/api/me/spans', { from: instant, to: instant, limit: fc.integer({ min: -1, max: 6000 }).map(String) }],
        ['/api/me/export', { format: fc.constantFrom('json', 'csv', 'xml') }],
        ['/api/me/viewers', {}],
        ['/api/categories/rules', {}],
        ['/api/admin/policies', {}],
        ['/api/notifications/deliveries', {}],
        ['/reports/team', { teamId: id, ...range }],
        ['/reports/org', range],
        ['/audit', { actor: fc.constant('gateway'), from: instant, to: instant }],
        ['/audit/compliance', range],
      ];
      const requests = fc
        .record({
          at: fc.constantFrom(...reads),
          who: fc.nat({ max: callers.length - 1 }),
          // Now and then a cookie that is no session at all.
          cookie: fc.oneof({ weight: 19, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: headerValue }),
        })
        .chain(({ at: [path, params], who, cookie }) =>
          queryString(params, 'from' in params ? ranges : undefined).map((query): FuzzRequest => {
            const caller = callers[who] as Caller;
            return { method: 'GET', path, query, headers: { ...caller.headers, ...(cookie === null ? {} : { cookie }) } };
          }),
        );
      await fuzzRoute(bed.cloud, 'report queries', requests, RUNS);
    },
    fuzzTimeout(RUNS),
  );
});
