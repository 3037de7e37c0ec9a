// Test-only: generated orgs with membership moves and activity, the reports' inputs computed
// from them, and the differencing check over any set of published numbers.
import fc from 'fast-check';

export const APPS = [
  { app: 'Code', category: 'Development', productivity: 'productive' },
  { app: 'Slack', category: 'Communication', productivity: 'neutral' },
  { app: 'Figma', category: 'Design', productivity: 'productive' },
  { app: 'youtube', category: 'Entertainment', productivity: 'unproductive' },
  { app: 'zoom', category: 'Meetings', productivity: 'neutral' },
] as const;

export interface GenOrg {
  k: number;
  teams: number;
  days: number;
  people: { team: number; move: { day: number; to: number } | null }[];
  /** activity[person][day]: per app index, active and idle ms; undefined: not active that day. */
  activity: ({ app: number; active: number; idle: number }[] | null)[][];
  ranges: [number, number][];
}

/** Times in [2^30, 2^40): sums of any few are distinct by chance with negligible probability. */
const ms = fc.tuple(fc.integer({ min: 1 << 10, max: (1 << 20) - 1 }), fc.integer({ min: 0, max: (1 << 20) - 1 })).map(([hi, lo]) => hi * 2 ** 20 + lo);

/** `shape`: bigger orgs in fewer teams give k = 5 passing cells often enough to test something. */
export function genOrg(k: fc.Arbitrary<number>, shape: { maxTeams: number; minSize: number } = { maxTeams: 3, minSize: 3 }): fc.Arbitrary<GenOrg> {
  return fc
    .record({ k, teams: fc.integer({ min: 1, max: shape.maxTeams }), days: fc.integer({ min: 2, max: 8 }), size: fc.integer({ min: shape.minSize, max: 10 }) })
    .chain(({ k, teams, days, size }) =>
      fc.record({
        k: fc.constant(k),
        teams: fc.constant(teams),
        days: fc.constant(days),
        // -1: no team.
        people: fc.array(
          fc.record({
            team: fc.integer({ min: -1, max: teams - 1 }),
            move: fc.option(fc.record({ day: fc.integer({ min: 1, max: days - 1 }), to: fc.integer({ min: -1, max: teams - 1 }) }), { freq: 3 }),
          }),
          { minLength: size, maxLength: size },
        ),
        activity: fc.array(
          fc.array(
            fc.option(
              fc.uniqueArray(fc.record({ app: fc.integer({ min: 0, max: APPS.length - 1 }), active: ms, idle: fc.oneof(fc.constant(0), ms) }), {
                minLength: 1,
                maxLength: 3,
                selector: (u) => u.app,
              }),
              { freq: 4, nil: null },
            ),
            { minLength: days, maxLength: days },
          ),
          { minLength: size, maxLength: size },
        ),
        ranges: fc.array(
          fc.tuple(fc.integer({ min: 0, max: days - 1 }), fc.integer({ min: 0, max: days - 1 })).map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a])),
          { minLength: 2, maxLength: 5 },
        ),
      }),
    );
}

/** The team index (or -1) a person is in on a day. */
export const teamOn = (org: GenOrg, person: number, day: number): number => {
  const p = org.people[person];
  if (!p) return -1;
  return p.move && day >= p.move.day ? p.move.to : p.team;
};

/** A published number: a value over a group (team index, -1 no team, 'org'), some days and a filter. */
export interface Published {
  label: string;
  scope: number | 'org';
  days: number[];
  /** 'all' | 'app:<name>' | 'cat:<category>' | 'other' */
  filter: string;
  value: number;
}

/** Each person's own time inside a number's scope, days and filter, as it really was. */
function contributions(org: GenOrg, n: Published): number[] {
  return org.people.map((_, p) => {
    let sum = 0;
    for (const d of n.days) {
      if (n.scope !== 'org' && teamOn(org, p, d) !== n.scope) continue;
      for (const use of org.activity[p]?.[d] ?? []) {
        const app = APPS[use.app];
        if (!app) continue;
        if (n.filter === 'all' || n.filter === 'other' || n.filter === `app:${app.app}` || n.filter === `cat:${app.category}`) sum += use.active;
      }
    }
    return sum;
  });
}

/** Whether some 1..maxSize of `values` add up to exactly `target`. */
function subsetSums(values: number[], maxSize: number, target: number): number[] | null {
  const pick: number[] = [];
  const walk = (start: number, sum: number): boolean => {
    if (pick.length > 0 && sum === target) return true;
    if (pick.length === maxSize) return false;
    for (let i = start; i < values.length; i++) {
      pick.push(i);
      if (walk(i + 1, sum + (values[i] ?? 0))) return true;
      pick.pop();
    }
    return false;
  };
  return walk(0, 0) ? [...pick] : null;
}

/**
 * The attack: any published number alone, or the difference of two (same filter, same group
 * or the org and a group, overlapping days), must not equal the exact time of a non-empty set
 * of fewer than k people. Returns the first leak found, described, or null; and how many
 * differences were checked.
 */
export function findLeak(org: GenOrg, numbers: readonly Published[]): { leak: string | null; checked: number } {
  const vectors = numbers.map((n) => contributions(org, n));
  let checked = 0;
  const test = (d: number, c: number[], what: string): string | null => {
    if (d === 0) return null;
    checked++;
    const people = c.flatMap((v, p) => (v === 0 ? [] : [p]));
    const hit = subsetSums(
      people.map((p) => c[p] ?? 0),
      org.k - 1,
      d,
    );
    return hit ? `${what} = ${d}: the exact time of people ${hit.map((i) => people[i]).join(', ')} (k = ${org.k})` : null;
  };
  for (let i = 0; i < numbers.length; i++) {
    const a = numbers[i];
    const va = vectors[i];
    if (!a || !va) continue;
    const alone = test(a.value, va, a.label);
    if (alone) return { leak: alone, checked };
    for (let j = i + 1; j < numbers.length; j++) {
      const b = numbers[j];
      const vb = vectors[j];
      if (!b || !vb || a.filter !== b.filter) continue;
      if (a.scope !== b.scope && a.scope !== 'org' && b.scope !== 'org') continue;
      if (!a.days.some((d) => b.days.includes(d))) continue;
      const leak = test(
        a.value - b.value,
        va.map((v, p) => v - (vb[p] ?? 0)),
        `${a.label} - ${b.label}`,
      );
      if (leak) return { leak, checked };
    }
  }
  return { leak: null, checked };
}
