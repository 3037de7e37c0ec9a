import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createRollupQueries } from './query-store';

/**
 * Which person-days an export withholds: those whose cell (their group that day) holds 1 to k-1
 * active people not shown. Hand-made person-days whose answers are known, read both ways the
 * query can take (only the people's own groups, or every group of the org).
 */
const D1 = '2026-11-02';
const D2 = '2026-11-03';

describe.each(testDatabaseKinds())('withheld person-days on %s', (kind) => {
  let cloud: TestCloud;
  let orgId = '';
  const id: Record<string, string> = {};

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory } = cloud.cloud.services;
    orgId = (await directory.createOrg({ name: 'Withheld Org', timeZone: 'UTC' })).id;
    const a = (await directory.createTeam(orgId, 'A')).id;
    const b = (await directory.createTeam(orgId, 'B')).id;
    const days: [person: string, day: string, team: string | null][] = [
      ['a1', D1, a],
      ['a2', D1, a],
      ['a3', D1, a],
      ['a1', D2, a],
      ['a2', D2, a],
      ['a3', D2, a],
      ['b1', D1, b],
      ['b2', D1, b],
      ['b1', D2, b],
      // b2 moved to team A on the second day.
      ['b2', D2, a],
      ['n1', D1, null],
      ['n2', D1, null],
    ];
    for (const person of new Set(days.map(([p]) => p))) {
      id[person] = (await directory.createUser({ orgId, email: `${person}@withheld.test`, name: person, role: 'employee', osUser: person })).id;
    }
    for (const [person, day, team] of days) {
      await cloud.database.rows(sql`
        insert into rollup_user_days (org_id, day, user_id, team_id, active_ms, idle_ms, productive_ms)
        values (${orgId}::uuid, ${day}::date, ${id[person]}::uuid, ${team}::uuid, 3600000, 0, 0)`);
    }
  }, 120_000);
  afterAll(async () => cloud?.stopAll());

  const cases: { name: string; people: string[]; shown: string[]; k: number; withheld: string[] }[] = [
    {
      name: 'a team with one person not shown, k 2: only the day that person is alone',
      people: ['a1', 'a2', 'a3'],
      shown: ['a1', 'a2'],
      k: 2,
      withheld: ['a1 D1', 'a2 D1', 'a3 D1'],
    },
    { name: 'everyone of a team shown: nothing', people: ['b1', 'b2'], shown: ['b1', 'b2'], k: 2, withheld: [] },
    { name: 'one of two not shown, and the team someone moved to has enough', people: ['b1', 'b2'], shown: ['b1'], k: 2, withheld: ['b1 D1', 'b2 D1'] },
    { name: 'a person who moved: both teams counted', people: ['b2'], shown: ['b2'], k: 5, withheld: ['b2 D1', 'b2 D2'] },
    { name: 'people without a team are a group of their own', people: ['n1'], shown: ['n1'], k: 2, withheld: ['n1 D1'] },
  ];

  for (const read of [
    { how: 'their own groups', fewPeople: 500 },
    { how: 'every group of the org', fewPeople: 0 },
  ]) {
    it.each(cases)(`$name (reading ${read.how})`, async ({ people, shown, k, withheld }) => {
      const queries = createRollupQueries(cloud.database, { fewPeople: read.fewPeople });
      const name = Object.fromEntries(Object.entries(id).map(([person, userId]) => [userId, person]));
      const rows = await queries.withheldPersonDays(
        orgId,
        people.map((p) => id[p] ?? ''),
        shown.map((p) => id[p] ?? ''),
        D1,
        D2,
        k,
      );
      expect(rows.map((r) => `${name[r.userId]} ${r.day === D1 ? 'D1' : 'D2'}`).sort()).toEqual(withheld);
    });
  }
});
