import { z } from 'zod';

/**
 * An organisation's working week: the days (ISO weekdays, 1 = Monday … 7 = Sunday) and the hours
 * of each working day, in the org's time zone. Active time outside it is after hours.
 */
export const WEEKDAYS = [
  { day: 1, short: 'Mon', name: 'Monday' },
  { day: 2, short: 'Tue', name: 'Tuesday' },
  { day: 3, short: 'Wed', name: 'Wednesday' },
  { day: 4, short: 'Thu', name: 'Thursday' },
  { day: 5, short: 'Fri', name: 'Friday' },
  { day: 6, short: 'Sat', name: 'Saturday' },
  { day: 7, short: 'Sun', name: 'Sunday' },
] as const;

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const Time = (which: string) =>
  z
    .string({ error: `enter the ${which} as a time such as 08:00` })
    .trim()
    .regex(TIME, `enter the ${which} as hours and minutes on a 24-hour clock, such as 08:00`);

export const WorkingWeek = z
  .strictObject({
    days: z
      .array(z.int({ error: 'name each working day by its number, 1 (Monday) to 7 (Sunday)' }).min(1).max(7), {
        error: 'choose the working days',
      })
      .min(1, 'choose at least one working day')
      .refine((days) => new Set(days).size === days.length, 'name each working day once'),
    start: Time('start of the working day'),
    end: Time('end of the working day'),
  })
  .superRefine((w, ctx) => {
    // Times on a 24-hour clock with two-digit hours compare as text.
    if (TIME.test(w.start) && TIME.test(w.end) && w.end <= w.start)
      ctx.addIssue({ code: 'custom', path: ['end'], message: `the working day must end after it starts (${w.start})` });
  })
  .transform((w) => ({ ...w, days: [...w.days].sort((a, b) => a - b) }));
export type WorkingWeek = z.infer<typeof WorkingWeek>;

/** What every organisation starts with, and what the figures used before it was a setting. */
export const DEFAULT_WORKING_WEEK: WorkingWeek = { days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' };

/**
 * The week in a few words, as reports state it: "Mon–Fri 08:00–18:00", "Sun–Thu 09:00–17:00",
 * "Mon–Tue, Thu 08:00–16:00". Runs of days are read round the week, so Sunday can open one.
 */
export function describeWorkingWeek(week: WorkingWeek): string {
  const on = new Set(week.days);
  const hours = `${week.start}–${week.end}`;
  if (on.size === 7) return `every day ${hours}`;
  const short = (d: number) => WEEKDAYS[d - 1]?.short ?? String(d);
  const next = (d: number) => (d % 7) + 1;
  const prev = (d: number) => ((d + 5) % 7) + 1;
  // Each run starts at a day whose day before is free, in Monday-first order; a run may wrap past Sunday.
  const firsts = week.days.filter((d) => !on.has(prev(d)));
  const runs: string[] = [];
  for (const first of firsts) {
    let last = first;
    while (on.has(next(last))) last = next(last);
    runs.push(first === last ? short(first) : next(first) === last ? `${short(first)}, ${short(last)}` : `${short(first)}–${short(last)}`);
  }
  return `${runs.join(', ')} ${hours}`;
}
