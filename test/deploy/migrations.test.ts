/**
 * Zero-downtime upgrades need migrations that the previous release still runs against: during a
 * rolling upgrade the migration Job brings the schema forward while pods of the old release
 * still serve. So the schema changes in expand/contract steps (docs/DEPLOYMENT.md, "Upgrades"):
 * a release adds (tables, nullable columns, columns with defaults, indexes); a column or table
 * the code stops using is dropped or renamed only in a later release, once no running code reads it.
 *
 * What can be checked from the SQL: a statement that breaks the previous release's code (a drop,
 * a rename, a type change, a new NOT NULL without a default) may appear only in a migration
 * listed below, naming the earlier release whose code already stopped using what it changes.
 * The migrations up to BASELINE are the first release's schema, with no older release beside it.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';

const MIGRATIONS = new URL('../../cloud/src/platform/db/migrations/', import.meta.url);
const BASELINE = '0015_account_lifecycle';
const CLOUD_VERSION = (JSON.parse(readFileSync(new URL('../../cloud/package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Contract steps: each names the release whose code stopped using what the statement drops or changes. */
const CONTRACT_STEPS: { migration: string; statement: RegExp; codeStoppedUsingItIn: string }[] = [];

const BREAKING: [RegExp, string][] = [
  [/\bDROP\s+TABLE\b/i, 'drops a table'],
  [/\bDROP\s+COLUMN\b/i, 'drops a column'],
  [/\bRENAME\s+COLUMN\b/i, 'renames a column'],
  [/\bALTER\s+TABLE\s+\S+\s+RENAME\s+TO\b/i, 'renames a table'],
  [/\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b/i, 'changes a column type'],
  [/\bALTER\s+COLUMN\s+\S+\s+SET\s+NOT\s+NULL\b/i, 'makes a column NOT NULL'],
  [/\bADD\s+COLUMN\b(?![^;]*\bDEFAULT\b)[^;]*\bNOT\s+NULL\b/i, 'adds a NOT NULL column without a default'],
];

const older = (a: string, b: string) => {
  const [pa, pb] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if ((pa?.[i] ?? 0) !== (pb?.[i] ?? 0)) return (pa?.[i] ?? 0) < (pb?.[i] ?? 0);
  return false;
};

/** Every statement that would break the previous release, with why, unless it is a listed contract step. */
export function breakingStatements(migrations: { name: string; sql: string }[], steps: typeof CONTRACT_STEPS, baseline: string, version: string): string[] {
  const problems: string[] = [];
  for (const { name, sql } of migrations) {
    if (name <= baseline) continue;
    // The part drizzle-kit generated and any hand-written SQL after it: both reach the database.
    for (const statement of sql.split(/;\s*(?:--> statement-breakpoint)?/).map((s) => s.replace(/^\s*--.*$/gm, '').trim())) {
      if (!statement) continue;
      for (const [pattern, what] of BREAKING) {
        if (!pattern.test(statement)) continue;
        const step = steps.find((s) => s.migration === name && s.statement.test(statement));
        if (!step) problems.push(`${name}: ${what} the previous release still uses: ${statement.slice(0, 120)}`);
        else if (!older(step.codeStoppedUsingItIn, version)) {
          problems.push(`${name}: ${what} in the release (${version}) whose code stopped using it (${step.codeStoppedUsingItIn}); ship it one release later`);
        }
      }
    }
  }
  return problems;
}

const migrations = readdirSync(MIGRATIONS)
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => ({ name: f.replace(/\.sql$/, ''), sql: readFileSync(new URL(f, MIGRATIONS), 'utf8') }));

describe('migrations stay backwards compatible for one release', () => {
  it('change nothing after the first release that the previous release still reads', () => {
    expect(migrations.some((m) => m.name === BASELINE)).toBe(true);
    expect(breakingStatements(migrations, CONTRACT_STEPS, BASELINE, CLOUD_VERSION)).toEqual([]);
  });

  it('flag each kind of breaking change, and a contract step shipped with the code that stopped using it', () => {
    const planted = [
      'ALTER TABLE "devices" DROP COLUMN "label";',
      'ALTER TABLE "devices" RENAME COLUMN "label" TO "name";',
      'ALTER TABLE "devices" RENAME TO "machines";',
      'DROP TABLE "sessions" CASCADE;',
      'ALTER TABLE "devices" ALTER COLUMN "label" SET DATA TYPE varchar(40);',
      'ALTER TABLE "devices" ALTER COLUMN "label" SET NOT NULL;',
      'ALTER TABLE "devices" ADD COLUMN "owner" uuid NOT NULL;',
    ].map((sql, i) => ({ name: `9${String(i).padStart(3, '0')}_planted`, sql }));
    expect(breakingStatements(planted, [], BASELINE, '0.2.0')).toHaveLength(planted.length);
    // Expand steps pass: a nullable column, one with a default, a table, an index.
    const expand = [
      {
        name: '9100_expand',
        sql: 'ALTER TABLE "devices" ADD COLUMN "owner" uuid;--> statement-breakpoint\nALTER TABLE "devices" ADD COLUMN "n" integer DEFAULT 0 NOT NULL;\nCREATE TABLE "x" ("id" uuid PRIMARY KEY NOT NULL);\nCREATE INDEX "i" ON "x" ("id");',
      },
    ];
    expect(breakingStatements(expand, [], BASELINE, '0.2.0')).toEqual([]);
    // A contract step: allowed once an earlier release stopped using the column, refused in the same one.
    const step = [{ migration: '9000_planted', statement: /DROP COLUMN "label"/, codeStoppedUsingItIn: '0.2.0' }];
    const drop = planted.slice(0, 1);
    expect(breakingStatements(drop, step, BASELINE, '0.3.0')).toEqual([]);
    expect(breakingStatements(drop, step, BASELINE, '0.2.0')).toEqual([
      '9000_planted: drops a column in the release (0.2.0) whose code stopped using it (0.2.0); ship it one release later',
    ]);
  });
});
