import type { AuditService } from '../audit';
import { AppError } from '../../platform/errors';
import { parseImportFile, planImport } from './import';
import type { DirectoryStore } from './store';

export interface ImportSummary {
  dryRun: boolean;
  rows: number;
  teamsCreated: number;
  usersCreated: number;
  usersUpdated: number;
  managerAssignments: number;
}

/** Most rows listed in one error response; the message still gives the total. */
const MAX_REPORTED_PROBLEMS = 500;

/**
 * Directory import from CSV: every row validated, all problems reported by line, and
 * nothing written unless the whole file is good. Dry runs and real runs are both audited.
 */
export function createDirectoryImporter(deps: { store: DirectoryStore; audit: AuditService }) {
  const { store, audit } = deps;
  return {
    async importCsv(input: { orgId: string; actorUserId: string; text: string; dryRun: boolean }): Promise<ImportSummary> {
      const parsed = parseImportFile(input.text);
      let problems = parsed.problems;
      let result: ReturnType<typeof planImport> | undefined;
      if (problems.length === 0) {
        const [existingTeams, existingUsers] = await Promise.all([
          store.teamsOfOrg(input.orgId),
          store.usersByEmails(
            input.orgId,
            parsed.rows.flatMap(({ row }) => (row.managerEmail ? [row.email, row.managerEmail] : [row.email])),
          ),
        ]);
        result = planImport(parsed, { orgId: input.orgId, actorUserId: input.actorUserId, existingTeams, existingUsers });
        problems = result.problems;
      }
      const summary: ImportSummary = {
        dryRun: input.dryRun,
        rows: parsed.rows.length,
        teamsCreated: result?.plan.newTeams.length ?? 0,
        usersCreated: result?.plan.newUsers.length ?? 0,
        usersUpdated: result?.plan.updatedUsers.length ?? 0,
        managerAssignments: result?.plan.teamManagers.length ?? 0,
      };
      const applied = problems.length === 0 && !input.dryRun && result !== undefined;
      if (applied && result) await store.applyImport(result.plan);
      await audit.record({
        orgId: input.orgId,
        actorType: 'user',
        actorId: input.actorUserId,
        action: input.dryRun ? 'directory.import.dry_run' : 'directory.import',
        subjectUserIds: applied && result ? result.affectedUserIds : [],
        details: { ...summary, applied, badRows: new Set(problems.map((p) => p.line)).size },
      });
      if (problems.length > 0) {
        const lines = new Set(problems.map((p) => p.line)).size;
        throw new AppError(
          'validation_failed',
          `${lines} bad ${lines === 1 ? 'row' : 'rows'} in the file; nothing was imported`,
          problems.slice(0, MAX_REPORTED_PROBLEMS).map((p) => ({ path: `line ${p.line}: ${p.field}`, problem: p.problem })),
        );
      }
      return summary;
    },
  };
}
export type DirectoryImporter = ReturnType<typeof createDirectoryImporter>;
