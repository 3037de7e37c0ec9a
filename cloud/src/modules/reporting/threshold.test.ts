import { describe, expect, it } from 'vitest';
import { judgeSlices } from './threshold';

const people = (...ids: number[]) => new Set(ids.map((i) => `p${i}`));
const slice = (key: string, ids: number[]) => ({ key, people: people(...ids), value: key });

describe('minimum group size', () => {
  it('hides a slice of 4 people and shows one of 5 (k = 5)', () => {
    const judged = judgeSlices([slice('four', [1, 2, 3, 4]), slice('five', [1, 2, 3, 4, 5])], 5);
    expect(judged.map((j) => [j.key, j.suppressed])).toEqual([
      ['four', 'too_few_people'],
      ['five', null],
    ]);
  });

  it('hides a slice that differs from another shown slice by fewer than k people (subtraction)', () => {
    // org = teams A (6) + B (3): B is hidden, and org - A would reveal B, so one of them goes.
    const org = slice('org', [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const a = slice('A', [1, 2, 3, 4, 5, 6]);
    const b = slice('B', [7, 8, 9]);
    const judged = judgeSlices([org, a, b], 5, { comparable: true });
    const verdict = Object.fromEntries(judged.map((j) => [j.key, j.suppressed]));
    expect(verdict.B).toBe('too_few_people');
    expect(verdict.A).toBe('differs_by_too_few');
    expect(verdict.org).toBeNull();
  });

  it('keeps two shown slices that differ by exactly k people', () => {
    const judged = judgeSlices([slice('all', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), slice('half', [1, 2, 3, 4, 5])], 5, { comparable: true });
    expect(judged.every((j) => j.suppressed === null)).toBe(true);
  });

  it('pools hidden parts of a shown total and hides the smallest shown part until the pool has k people', () => {
    const parts = [slice('big', [1, 2, 3, 4, 5, 6, 7, 8]), slice('mid', [1, 2, 3, 4, 5, 6]), slice('small', [9, 10])];
    const judged = judgeSlices(parts, 5, { partsOfShownTotal: true });
    const verdict = Object.fromEntries(judged.map((j) => [j.key, j.suppressed]));
    expect(verdict.small).toBe('too_few_people');
    expect(verdict.mid).toBe('complements_hidden');
    expect(verdict.big).toBeNull();
  });
});
