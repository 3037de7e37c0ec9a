import { describe, expect, it } from 'vitest';
import { addDays, Day, DayRange, dayRangeProblem, daysBetween, DEFAULT_RANGE_DAYS, defaultDayRange, isRealDay, MAX_RANGE_DAYS, weekOf } from './days';

describe('Day', () => {
  it.each(['2026-01-01', '2026-02-28', '2024-02-29', '2000-02-29', '2026-12-31', '2026-04-30', '1970-01-01', '9998-12-31'])('accepts %s', (day) => {
    expect(Day.safeParse(day).success).toBe(true);
    expect(isRealDay(day)).toBe(true);
  });

  const refused: [string, string][] = [
    ['2026-02-30', 'is not a real date'],
    ['2026-02-29', 'is not a real date'],
    ['1900-02-29', 'is not a real date'],
    ['2026-04-31', 'is not a real date'],
    ['2026-13-01', 'is not a real date'],
    ['2026-00-10', 'is not a real date'],
    ['2026-01-00', 'is not a real date'],
    ['2026-1-5', 'must be a date YYYY-MM-DD'],
    ['2026-01-01T00:00:00Z', 'must be a date YYYY-MM-DD'],
    ['yesterday', 'must be a date YYYY-MM-DD'],
    ['', 'must be a date YYYY-MM-DD'],
    // Outside the calendar every report can step through: year 0 is no PostgreSQL date, and a
    // range ending in 9999 used to step past 9999-12-31 into strings that never end the loop.
    ['0000-01-01', 'must be between 1970-01-01 and 9998-12-31'],
    ['1969-12-31', 'must be between 1970-01-01 and 9998-12-31'],
    ['9999-12-01', 'must be between 1970-01-01 and 9998-12-31'],
  ];
  it.each(refused)('refuses %j: %s', (day, message) => {
    const parsed = Day.safeParse(day);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([message]);
    if (!message.startsWith('must be between')) expect(isRealDay(day)).toBe(false);
  });
});

describe('day arithmetic', () => {
  const sums: [string, number, string][] = [
    ['2026-01-31', 1, '2026-02-01'],
    ['2026-03-01', -1, '2026-02-28'],
    ['2024-03-01', -1, '2024-02-29'],
    ['2026-12-31', 1, '2027-01-01'],
    ['2026-03-28', 2, '2026-03-30'], // over the European DST change: day strings never see local time
    ['2026-06-15', 0, '2026-06-15'],
  ];
  it.each(sums)('%s %+d days is %s', (day, n, expected) => {
    expect(addDays(day, n)).toBe(expected);
  });

  it.each([
    ['2026-06-15', '2026-06-15', 1],
    ['2026-06-01', '2026-06-28', 28],
    ['2024-01-01', '2024-12-31', 366],
  ])('%s to %s is %d days', (from, to, days) => {
    expect(daysBetween(from, to)).toBe(days);
  });

  it.each([
    ['2026-11-30', '2026-11-30', 1], // a Monday
    ['2026-12-06', '2026-11-30', 64], // a Sunday
    ['2026-12-02', '2026-11-30', 4],
    ['2027-01-01', '2026-12-28', 16], // a week across the new year
  ])('%s is in the week of %s with bit %d', (day, week, bit) => {
    expect(weekOf(day)).toEqual({ week, bit });
  });
});

describe('DayRange', () => {
  const good: [string, { from?: string; to?: string }][] = [
    ['no ends', {}],
    ['only from', { from: '2026-01-01' }],
    ['one day', { from: '2026-06-15', to: '2026-06-15' }],
    ['a leap year, the longest allowed', { from: '2024-01-01', to: '2024-12-31' }],
  ];
  it.each(good)('accepts %s', (_name, q) => {
    expect(DayRange.safeParse(q).success).toBe(true);
  });

  const bad: [string, { from?: string; to?: string }, string, string][] = [
    ['a reversed range', { from: '2026-06-16', to: '2026-06-15' }, 'from', 'from must not be after to'],
    ['a range of 367 days', { from: '2024-01-01', to: '2025-01-01' }, 'from', `a range spans at most ${MAX_RANGE_DAYS} days`],
    ['an impossible to', { from: '2026-02-01', to: '2026-02-30' }, 'to', 'is not a real date'],
  ];
  it.each(bad)('refuses %s, naming the field', (_name, q, path, message) => {
    const issues = DayRange.safeParse(q).error?.issues ?? [];
    expect(issues.map((i) => ({ path: i.path.join('.'), message: i.message }))).toEqual([{ path, message }]);
  });

  it('names the problem the same way when a default fills an end', () => {
    expect(dayRangeProblem('2026-06-16', '2026-06-15')).toEqual({ problem: 'after to', message: 'from must not be after to' });
    expect(dayRangeProblem('2024-01-01', '2025-01-01')).toEqual({ problem: 'range of 367 days', message: 'a range spans at most 366 days' });
    expect(dayRangeProblem('2024-01-01', '2024-12-31')).toBeUndefined();
  });
});

describe('the default range', () => {
  it('is four weeks', () => {
    expect(DEFAULT_RANGE_DAYS).toBe(28);
  });

  const cases: [string, { from?: string; to?: string }, { from: string; to: string }][] = [
    ['nothing given', {}, { from: '2026-11-04', to: '2026-12-01' }],
    ['only to', { to: '2026-03-01' }, { from: '2026-02-02', to: '2026-03-01' }],
    ['only from', { from: '2026-01-01' }, { from: '2026-01-01', to: '2026-12-01' }],
    ['both', { from: '2026-05-01', to: '2026-05-03' }, { from: '2026-05-01', to: '2026-05-03' }],
  ];
  it.each(cases)('with %s, up to today 2026-12-01', (_name, q, expected) => {
    const range = defaultDayRange(q, '2026-12-01');
    expect(range).toEqual(expected);
    if (q.from === undefined) expect(daysBetween(range.from, range.to)).toBe(DEFAULT_RANGE_DAYS);
  });
});
