/** The Monday of a day's ISO week and that day's bit (Monday = 1, Sunday = 64). */
export function weekOf(day: string): { week: string; bit: number } {
  const t = Date.parse(`${day}T00:00:00Z`);
  const offset = (new Date(t).getUTCDay() + 6) % 7;
  return { week: new Date(t - offset * 86_400_000).toISOString().slice(0, 10), bit: 1 << offset };
}
