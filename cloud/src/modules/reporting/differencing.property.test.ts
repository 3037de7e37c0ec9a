import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedInUser } from '../../platform/env';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { APPS, findLeak, genOrg, teamOn, type GenOrg, type Published } from '../../../test/support/leak-check';
import { comparisonNumbers, csvNumbers, dayOf, modelNumbers, summaryNumbers, teamAppsNumbers, trendNumbers } from '../../../test/support/leak-model';
import { seedRollups, type SeedPersonDay } from '../../../test/support/rollups';

/**
 * The minimum group size cannot be bypassed by differencing: over random orgs, teams,
 * membership moves and activity, no published number, nor the difference of two (same metric,
 * same group or the org and a group, overlapping ranges), is the exact time of fewer than k
 * people. Thousands of orgs through the reports' own code on in-memory rollup rows; a few
 * through the real service on a database, every report endpoint and the team CSV export.
 */
const MODEL_RUNS = 3_000;
const MODEL_TIME_LIMIT_MS = 60_000;
const SERVICE_RUNS = 12;

describe('differencing (model of the rollup reads, the reports’ own code)', () => {
  it(
    `finds no leak in up to ${MODEL_RUNS} generated orgs (k = 3..5)`,
    () => {
      let runs = 0;
      let differences = 0;
      fc.assert(
        fc.property(genOrg(fc.integer({ min: 3, max: 5 })), (org) => {
          runs++;
          const { leak, checked } = findLeak(org, modelNumbers(org));
          differences += checked;
          if (leak) throw new Error(leak);
        }),
        { numRuns: MODEL_RUNS, interruptAfterTimeLimit: MODEL_TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
      console.info(`differencing model: ${runs} orgs, ${differences} non-zero numbers and differences checked`);
      expect(runs).toBeGreaterThan(500);
    },
    MODEL_TIME_LIMIT_MS + 60_000,
  );
});

describe.each(testDatabaseKinds())('differencing through the real reports on %s', (kind) => {
  let cloud: TestCloud;
  let run = 0;
  beforeAll(async () => {
    cloud = await startTestCloud(kind);
  });
  afterAll(async () => cloud?.stopAll());

  /** A fresh org in the database holding the generated one; its numbers from every report endpoint. */
  async function serviceNumbers(org: GenOrg): Promise<Published[]> {
    const { directory, reports, exportCsv } = cloud.cloud.services;
    const tag = `r${run++}`;
    const { id: orgId } = await directory.createOrg({ name: `Org ${tag}`, timeZone: 'UTC' });
    const adminId = (await directory.createUser({ orgId, email: `admin-${tag}@prop.test`, name: 'Admin', role: 'admin' })).id;
    const admin: SignedInUser = {
      userId: adminId,
      orgId,
      email: `admin-${tag}@prop.test`,
      name: 'Admin',
      role: 'admin',
      managedTeamIds: [],
      teamId: null,
      sessionId: 's',
    };
    const teamIds: string[] = [];
    for (let t = 0; t < org.teams; t++) teamIds.push((await directory.createTeam(orgId, `Team ${t}`)).id);
    const team = (t: number) => (t < 0 ? null : (teamIds[t] ?? null));
    const users: string[] = [];
    for (const [p, person] of org.people.entries()) {
      users.push(
        (
          await directory.createUser({
            orgId,
            email: `p${p}-${tag}@prop.test`,
            name: `P${p}`,
            role: 'employee',
            teamId: team(person.move ? person.move.to : person.team),
          })
        ).id,
      );
    }
    // The rollups as the analytics flush writes them: each person-day with the team of that day.
    const seed: SeedPersonDay[] = [];
    org.activity.forEach((days, p) =>
      days.forEach((uses, d) => {
        if (!uses) return;
        const apps = uses.flatMap((u) => {
          const app = APPS[u.app];
          return app ? [{ app: app.app, category: app.category, productivity: app.productivity, activeMs: u.active, idleMs: u.idle }] : [];
        });
        seed.push({ userId: users[p] ?? '', teamId: team(teamOn(org, p, d)), day: dayOf(d), apps });
      }),
    );
    await seedRollups(cloud.database, orgId, seed);
    const groupOf = (id: string) => teamIds.indexOf(id);
    const out: Published[] = [];
    for (const [from, to] of org.ranges) {
      const range = { from: dayOf(from), to: dayOf(to) };
      const tagged = `[${from}..${to}]`;
      for (let t = 0; t < org.teams; t++) {
        const teamId = teamIds[t] ?? '';
        out.push(...summaryNumbers(`summary ${t} ${tagged}`, t, from, to, await reports.teamSummary(admin, { teamId, ...range })));
        out.push(...teamAppsNumbers(`apps ${t} ${tagged}`, t, from, to, await reports.teamApps(admin, { teamId, ...range })));
        out.push(
          ...teamAppsNumbers(`apps Development ${t} ${tagged}`, t, from, to, await reports.teamApps(admin, { teamId, category: 'Development', ...range })),
        );
        out.push(...trendNumbers(`trend ${t} ${tagged}`, t, from, to, (await reports.teamTrend(admin, { teamId, ...range })).weeks));
        const csv = await new Response((await exportCsv(admin, { teamId, level: 'team', ...range })).body).text();
        out.push(
          ...csvNumbers(
            `csv ${t} ${tagged}`,
            t,
            csv
              .trim()
              .split('\n')
              .slice(1)
              .filter((l) => l.length > 0),
          ),
        );
      }
      out.push(...trendNumbers(`org trend ${tagged}`, 'org', from, to, (await reports.orgTrend(admin, range)).weeks));
      out.push(...comparisonNumbers(`comparison ${tagged}`, from, to, await reports.teamComparison(admin, range), groupOf));
    }
    return out;
  }

  it(`finds no leak in ${SERVICE_RUNS} generated orgs (k = 5, the policy floor), and publishes what the model publishes`, async () => {
    let differences = 0;
    await fc.assert(
      fc.asyncProperty(genOrg(fc.constant(5), { maxTeams: 2, minSize: 8 }), async (org) => {
        const published = await serviceNumbers(org);
        const { leak, checked } = findLeak(org, published);
        differences += checked;
        if (leak) throw new Error(leak);
        const key = (n: Published) => `${n.label}=${n.value}`;
        expect(published.map(key).sort()).toEqual(modelNumbers(org).map(key).sort());
      }),
      { numRuns: SERVICE_RUNS },
    );
    console.info(`differencing service (${kind}): ${SERVICE_RUNS} orgs, ${differences} non-zero numbers and differences checked`);
  }, 600_000);
});
