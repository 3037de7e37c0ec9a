import type { FieldProblem } from '@icarus/shared';

/**
 * How an admin form names its fields, by path with `*` for a list position:
 * `{ 'scopes.*': 'Scope', 'scopes.*.purpose': 'the purpose', retentionDays: 'Server retention (days)' }`.
 */
export type FieldLabels = Readonly<Record<string, string>>;

/** zod's messages (and ours) as a sentence's ending: "is empty", "must be at least 1". */
function plainEnding(problem: string): string {
  let m: RegExpMatchArray | null;
  if ((m = problem.match(/^Too small: expected string to have >=?(\d+) characters?/))) return m[1] === '1' ? 'is empty' : `needs at least ${m[1]} characters`;
  if ((m = problem.match(/^Too big: expected string to have <=?(\d+) characters?/))) return `is longer than ${m[1]} characters`;
  if ((m = problem.match(/^Too small: expected (number|int) to be >=?(-?[\d.]+)/))) return `must be at least ${m[2]}`;
  if ((m = problem.match(/^Too big: expected (number|int) to be <=?(-?[\d.]+)/))) return `must be at most ${m[2]}`;
  if ((m = problem.match(/^Too small: expected array to have >=?(\d+) items?/)))
    return m[1] === '1' ? 'needs at least one entry' : `needs at least ${m[1]} entries`;
  if ((m = problem.match(/^Too big: expected array to have <=?(\d+) items?/))) return `has more than ${m[1]} entries`;
  if (/^Invalid input: expected (number|int), received (NaN|string)/.test(problem)) return 'must be a whole number';
  if (/^Invalid input: expected \w+, received undefined/.test(problem)) return 'is missing';
  if (/^Invalid input: expected int, received number/.test(problem)) return 'must be a whole number';
  if ((m = problem.match(/^Invalid option: expected one of (.+)$/))) return `must be one of ${(m[1] ?? '').replace(/"/g, '').split('|').join(', ')}`;
  if (/^Invalid (email|url|uuid)/i.test(problem))
    return `is not a valid ${problem.match(/email|url|uuid/i)?.[0]?.toLowerCase() === 'url' ? 'address' : 'value'}`;
  if (/^(is|must|has|needs|cannot|can|should)\b/.test(problem)) return problem;
  if (/^not\b/.test(problem)) return `is ${problem}`;
  return `: ${problem}`;
}

/**
 * One field problem as a person reads it: `scopes.2.purpose` with "Too small: expected string to
 * have >=1 characters" becomes "Scope 3: the purpose is empty". Positions count from 1; a path
 * the form does not label keeps its last name.
 */
export function plainProblem(field: FieldProblem, labels: FieldLabels): string {
  const parts = field.path.split('.');
  const lead: string[] = [];
  const pattern: string[] = [];
  let tail = '';
  parts.forEach((part, i) => {
    const index = /^\d+$/.test(part);
    pattern.push(index ? '*' : part);
    const key = pattern.join('.');
    if (index) lead.push(`${labels[key] ?? parts[i - 1] ?? 'Entry'} ${Number(part) + 1}`);
    else if (i === parts.length - 1) tail = labels[key] ?? part;
  });
  const ending = plainEnding(field.problem);
  const sentence = ending.startsWith(': ') ? `${tail || 'this'}${ending}` : tail ? `${tail} ${ending}` : ending;
  const text = lead.length > 0 ? `${lead.join(', ')}: ${sentence}` : sentence;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function plainProblems(fields: readonly FieldProblem[] | undefined, labels: FieldLabels): string[] {
  return (fields ?? []).map((f) => plainProblem(f, labels));
}
