/**
 * The minimum-group-size rule. A slice is any figure computed over a set of people. It is
 * shown only when at least `k` distinct people are in it; and when several slices add up to
 * a figure that is also shown (apps of a team, teams of an org), hiding one small slice is
 * not enough: the rest could be subtracted from the total. So hidden slices are pooled and,
 * while the pool is smaller than `k`, the smallest visible slice joins it.
 */
export interface Slice<T> {
  key: string;
  people: ReadonlySet<string>;
  value: T;
}

export type Suppression = 'too_few_people' | 'differs_by_too_few' | 'complements_hidden';

export interface Judged<T> extends Slice<T> {
  suppressed: Suppression | null;
}

export const EXPLANATIONS: Record<Suppression, string> = {
  too_few_people: 'Hidden: fewer people than the policy\u2019s minimum group size.',
  differs_by_too_few:
    'Hidden: differs from another figure shown by fewer people than the minimum group size, so subtracting one from the other would reveal them.',
  complements_hidden: 'Hidden: showing it would let a hidden small group be worked out from the total.',
};

function differenceSize(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let n = 0;
  for (const x of a) if (!b.has(x)) n++;
  for (const x of b) if (!a.has(x)) n++;
  return n;
}

function union(slices: Iterable<Slice<unknown>>): Set<string> {
  const all = new Set<string>();
  for (const s of slices) for (const p of s.people) all.add(p);
  return all;
}

/**
 * Judges slices of one measure. `partsOfShownTotal`: the slices add up to a total that is
 * shown, so hidden ones must pool to at least `k` people. `comparable`: the slices measure the
 * same thing over overlapping people (a team and the org around it), so two shown slices
 * must differ by zero or at least `k` people.
 */
export function judgeSlices<T>(slices: readonly Slice<T>[], k: number, options: { partsOfShownTotal?: boolean; comparable?: boolean } = {}): Judged<T>[] {
  const judged: Judged<T>[] = slices.map((s) => ({ ...s, suppressed: s.people.size < k ? 'too_few_people' : null }));
  if (options.comparable) {
    // Repeat until stable: hiding one slice can make no new pair visible, but is cheap to redo.
    let changed = true;
    while (changed) {
      changed = false;
      const shown = judged.filter((j) => j.suppressed === null);
      outer: for (let i = 0; i < shown.length; i++) {
        for (let j = i + 1; j < shown.length; j++) {
          const a = shown[i];
          const b = shown[j];
          if (!a || !b) continue;
          const d = differenceSize(a.people, b.people);
          if (d > 0 && d < k) {
            // Hide the smaller of the two: the larger is usually the total people expect.
            const smaller = a.people.size <= b.people.size ? a : b;
            smaller.suppressed = 'differs_by_too_few';
            changed = true;
            break outer;
          }
        }
      }
    }
  }
  if (options.partsOfShownTotal) {
    for (;;) {
      const hidden = judged.filter((j) => j.suppressed !== null);
      if (hidden.length === 0) break;
      const pooled = union(hidden).size;
      if (pooled === 0 || pooled >= k) break;
      const next = judged.filter((j) => j.suppressed === null).sort((a, b) => a.people.size - b.people.size || a.key.localeCompare(b.key))[0];
      if (!next) break;
      next.suppressed = 'complements_hidden';
    }
  }
  return judged;
}
