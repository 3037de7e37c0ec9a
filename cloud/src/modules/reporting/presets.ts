import { addDays, weekOf } from '@icarus/shared';

/** A named range a report page offers as one link, in the org's calendar. */
export interface Preset {
  key: string;
  label: string;
  from: string;
  to: string;
}

function quarterStart(day: string): string {
  const [y = '1970', m = '01'] = day.split('-');
  const q = Math.floor((Number(m) - 1) / 3) * 3 + 1;
  return `${y}-${String(q).padStart(2, '0')}-01`;
}

/** This week, last week, the last 7 and 30 days, this quarter and last quarter, up to `today`. */
export function presetsFor(today: string): Preset[] {
  const monday = weekOf(today).week;
  const thisQuarter = quarterStart(today);
  const lastQuarter = quarterStart(addDays(thisQuarter, -1));
  return [
    { key: 'this-week', label: 'This week', from: monday, to: today },
    { key: 'last-week', label: 'Last week', from: addDays(monday, -7), to: addDays(monday, -1) },
    { key: 'last-7', label: 'Last 7 days', from: addDays(today, -6), to: today },
    { key: 'last-30', label: 'Last 30 days', from: addDays(today, -29), to: today },
    { key: 'this-quarter', label: 'This quarter', from: thisQuarter, to: today },
    { key: 'last-quarter', label: 'Last quarter', from: lastQuarter, to: addDays(thisQuarter, -1) },
  ];
}
