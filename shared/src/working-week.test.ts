import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKING_WEEK, describeWorkingWeek, WorkingWeek } from './working-week';

const problems = (input: unknown) => {
  const parsed = WorkingWeek.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('the working week', () => {
  it('reads as reports state it, runs of days round the week', () => {
    expect(describeWorkingWeek(DEFAULT_WORKING_WEEK)).toBe('Mon–Fri 08:00–18:00');
    expect(describeWorkingWeek({ days: [7, 1, 2, 3, 4], start: '09:00', end: '17:30' })).toBe('Sun–Thu 09:00–17:30');
    expect(describeWorkingWeek({ days: [1, 2, 4], start: '08:00', end: '16:00' })).toBe('Mon, Tue, Thu 08:00–16:00');
    expect(describeWorkingWeek({ days: [1, 3, 4, 5, 6], start: '08:00', end: '16:00' })).toBe('Mon, Wed–Sat 08:00–16:00');
    expect(describeWorkingWeek({ days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59' })).toBe('every day 00:00–23:59');
  });

  it('keeps the days in week order, each once', () => {
    expect(WorkingWeek.parse({ days: [4, 7, 1], start: ' 08:00', end: '18:00' })).toEqual({ days: [1, 4, 7], start: '08:00', end: '18:00' });
  });

  it('says in plain words what is wrong, naming the field', () => {
    expect(problems({ days: [], start: '08:00', end: '18:00' })).toEqual(['days: choose at least one working day']);
    expect(problems({ days: [1, 1], start: '08:00', end: '18:00' })).toEqual(['days: name each working day once']);
    expect(problems({ days: [8], start: '08:00', end: '18:00' })).toHaveLength(1);
    expect(problems({ days: [1], start: '8am', end: '18:00' })).toEqual([
      'start: enter the start of the working day as hours and minutes on a 24-hour clock, such as 08:00',
    ]);
    expect(problems({ days: [1], start: '18:00', end: '08:00' })).toEqual(['end: the working day must end after it starts (18:00)']);
    expect(problems({ days: [1], start: '08:00', end: '18:00', extra: 1 })).toHaveLength(1);
  });
});
