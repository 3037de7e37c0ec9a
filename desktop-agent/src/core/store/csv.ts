/**
 * One CSV cell of an export of the person's own data (RFC 4180 quoting). A cell a spreadsheet
 * would read as a formula (leading `=`, `+`, `-`, `@`, tab or CR: a window title is whatever an
 * app chose, e.g. `=cmd|' /C calc'!A0`) gets a leading `'`, as the cloud's exports do, so opening
 * the file runs nothing.
 */
export function csvCell(value: string | number | boolean | null): string {
  const text = value === null ? '' : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
