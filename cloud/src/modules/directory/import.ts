import { RoleSchema, safeText } from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import { CsvSyntaxError, parseCsv } from './csv';
import type { DirectoryImportPlan, TeamRow, UserRow } from './store';

export interface ImportProblem {
  line: number;
  field: string;
  problem: string;
}

/** Header spellings people use, normalised (lower case, letters and digits only). */
const COLUMNS: Record<string, ImportColumn> = {
  email: 'email',
  name: 'name',
  fullname: 'name',
  osuser: 'osUser',
  osaccount: 'osUser',
  username: 'osUser',
  team: 'team',
  manageremail: 'managerEmail',
  manager: 'managerEmail',
  role: 'role',
};
type ImportColumn = 'email' | 'name' | 'osUser' | 'team' | 'managerEmail' | 'role';

// Text goes into PostgreSQL, which holds no NUL: refused on its line, in the dry run too.
const optionalText = (max: number) =>
  safeText(z.string().max(max, `at most ${max} characters`))
    .transform((v) => (v === '' ? undefined : v))
    .optional();

export const ImportRow = z.strictObject({
  email: z.email('not a valid email address').max(320),
  name: safeText(z.string().min(1, 'is required').max(200, 'at most 200 characters')),
  osUser: optionalText(200),
  team: optionalText(200),
  managerEmail: z
    .union([z.literal(''), z.email('not a valid email address')])
    .transform((v) => (v === '' ? undefined : v))
    .optional(),
  role: z
    .union([z.literal(''), RoleSchema])
    .transform((v) => (v === '' ? undefined : v))
    .optional(),
});
export type ImportRow = z.infer<typeof ImportRow>;

export interface ParsedImport {
  rows: { line: number; row: ImportRow }[];
  /** Columns the file has: an absent column leaves that attribute of existing people alone. */
  columns: Set<ImportColumn>;
  problems: ImportProblem[];
}

/** Parses and validates every row; collects all problems rather than stopping at the first. */
export function parseImportFile(text: string): ParsedImport {
  const problems: ImportProblem[] = [];
  let records;
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) return { rows: [], columns: new Set(), problems: [{ line: error.line, field: 'file', problem: error.message }] };
    throw error;
  }
  const [header, ...body] = records;
  if (!header) return { rows: [], columns: new Set(), problems: [{ line: 1, field: 'file', problem: 'the file is empty' }] };

  const columns: (ImportColumn | undefined)[] = header.fields.map((h) => COLUMNS[h.toLowerCase().replace(/[^a-z0-9]/g, '')]);
  header.fields.forEach((h, i) => {
    if (!columns[i])
      problems.push({ line: header.line, field: h || `column ${i + 1}`, problem: 'unknown column; expected email, name, osUser, team, managerEmail, role' });
  });
  for (const required of ['email', 'name'] as const) {
    if (!columns.includes(required)) problems.push({ line: header.line, field: required, problem: 'required column is missing' });
  }
  if (problems.length > 0) return { rows: [], columns: new Set(), problems };
  if (body.length === 0) return { rows: [], columns: new Set(), problems: [{ line: header.line, field: 'file', problem: 'no rows after the header' }] };

  const rows: ParsedImport['rows'] = [];
  for (const record of body) {
    if (record.fields.length !== columns.length) {
      problems.push({ line: record.line, field: 'row', problem: `has ${record.fields.length} fields, the header has ${columns.length}` });
      continue;
    }
    const raw: Record<string, string> = {};
    columns.forEach((column, i) => {
      if (column) raw[column] = record.fields[i] ?? '';
    });
    const result = ImportRow.safeParse(raw);
    if (result.success) rows.push({ line: record.line, row: result.data });
    else
      for (const issue of result.error.issues) problems.push({ line: record.line, field: issue.path.map(String).join('.') || 'row', problem: issue.message });
  }
  return { rows, columns: new Set(columns.filter((c): c is ImportColumn => c !== undefined)), problems };
}

export interface PlanContext {
  orgId: string;
  /** The admin running the import: the file may not change their own role (no self lock-out). */
  actorUserId: string;
  existingTeams: TeamRow[];
  /** This org's directory entries with any email named in the file (other orgs are never consulted). */
  existingUsers: UserRow[];
}

export interface PlanResult {
  plan: DirectoryImportPlan;
  problems: ImportProblem[];
  affectedUserIds: string[];
}

/** Resolves teams, people and managers against the directory; pure, so a dry run is exact. */
export function planImport(parsed: ParsedImport, ctx: PlanContext): PlanResult {
  const problems: ImportProblem[] = [];
  const byEmail = new Map(ctx.existingUsers.filter((u) => u.orgId === ctx.orgId).map((u) => [u.email.toLowerCase(), u]));
  const teamIds = new Map(ctx.existingTeams.map((t) => [t.name.toLowerCase(), t.id]));
  const plan: DirectoryImportPlan = { orgId: ctx.orgId, newTeams: [], newUsers: [], updatedUsers: [], teamManagers: [] };

  // First pass: one id per email in the file, duplicates refused. An email another org also
  // has is simply a person of this org: nothing here may say what another org holds.
  const inFile = new Map<string, { line: number; row: ImportRow; id: string; existing?: UserRow }>();
  for (const { line, row } of parsed.rows) {
    const key = row.email.toLowerCase();
    const existing = byEmail.get(key);
    if (inFile.has(key)) problems.push({ line, field: 'email', problem: `duplicate of line ${inFile.get(key)?.line}` });
    else inFile.set(key, { line, row, id: existing?.id ?? uuidv7(), ...(existing ? { existing } : {}) });
  }

  // Everyone named as a manager, in the file or already in this org's directory.
  const managerOf = new Map<string, { id: string; role: UserRow['role'] | undefined }>();
  for (const { line, row } of inFile.values()) {
    if (!row.managerEmail) continue;
    const key = row.managerEmail.toLowerCase();
    const listed = inFile.get(key);
    const existing = byEmail.get(key);
    if (key === row.email.toLowerCase()) problems.push({ line, field: 'managerEmail', problem: 'a person cannot be their own manager' });
    else if (listed) managerOf.set(key, { id: listed.id, role: listed.row.role ?? listed.existing?.role });
    else if (existing) managerOf.set(key, { id: existing.id, role: existing.role });
    else problems.push({ line, field: 'managerEmail', problem: 'no such person in this file or the directory' });
  }
  for (const [key, manager] of managerOf) {
    if (manager.role === 'auditor') {
      const line = inFile.get(key)?.line ?? parsed.rows.find((r) => r.row.managerEmail?.toLowerCase() === key)?.line ?? 0;
      problems.push({ line, field: 'role', problem: 'an auditor cannot manage a team: auditors do not read personal activity data' });
    }
  }

  const teamIdOf = (name: string) => {
    const key = name.toLowerCase();
    let id = teamIds.get(key);
    if (!id) {
      id = uuidv7();
      teamIds.set(key, id);
      plan.newTeams.push({ id, name });
    }
    return id;
  };

  for (const [key, { line, row, id, existing }] of inFile) {
    const promoted = managerOf.has(key);
    const keepOrGiven = row.role ?? existing?.role ?? 'employee';
    // A manager who is also an admin keeps admin: `role` is the highest role held.
    const role = promoted && (keepOrGiven === 'employee' || keepOrGiven === 'manager') ? 'manager' : keepOrGiven;
    if (existing?.id === ctx.actorUserId && role !== existing.role) {
      problems.push({ line, field: 'role', problem: 'an import cannot change the role of the admin running it' });
    }
    const teamId = parsed.columns.has('team') ? (row.team ? teamIdOf(row.team) : null) : (existing?.teamId ?? null);
    const osUser = parsed.columns.has('osUser') ? (row.osUser ?? null) : (existing?.osUser ?? null);
    const managerId = parsed.columns.has('managerEmail')
      ? row.managerEmail
        ? (managerOf.get(row.managerEmail.toLowerCase())?.id ?? null)
        : null
      : (existing?.managerId ?? null);
    if (existing) plan.updatedUsers.push({ id, name: row.name, osUser, teamId, role, managerId });
    else plan.newUsers.push({ id, orgId: ctx.orgId, email: row.email, name: row.name, osUser, teamId, role, managerId });
    if (managerId && teamId) plan.teamManagers.push({ teamId, userId: managerId });
  }
  const seen = new Set<string>();
  plan.teamManagers = plan.teamManagers.filter((tm) => {
    const k = `${tm.teamId}:${tm.userId}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
  problems.sort((a, b) => a.line - b.line);
  return { plan, problems, affectedUserIds: [...inFile.values()].map((u) => u.id) };
}
