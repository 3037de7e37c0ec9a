// Reads vitest's JSON report, prints the plain closing line, and fails on any skipped test
// that is not on the allow-list below. Each entry says why that skip is expected.
import { readFileSync } from 'node:fs';

/** Skips that are right on this machine, matched against "<file> > <full test name>". */
const ALLOWED_SKIPS = [
  {
    // PGlite is one connection in one process: FOR UPDATE SKIP LOCKED between two workers
    // can only race on PostgreSQL, where the same test runs (CI sets TEST_DATABASE_URL).
    match: /modules\/notification\/delivery\.test\.ts > notifications on pglite two workers sharing the outbox never deliver the same message twice$/,
  },
  {
    // The topology runs five server processes on one database; PGlite belongs to one process,
    // so only its PostgreSQL run is real (CI sets TEST_DATABASE_URL).
    match: /e2e\/topology\.test\.ts > the topology on pglite /,
  },
  {
    // The persona walk seeds the 1,000-person demo (people, devices, consent, spans): minutes on
    // PGlite's single connection, so it runs on PostgreSQL only (CI sets TEST_DATABASE_URL); the
    // other browser suites cover the same pages on PGlite with small organisations.
    match: /e2e\/personas\.test\.ts > personas on PostgreSQL with the 1,000-person demo /,
  },
];

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = [];
for (const file of report.testResults) {
  for (const test of file.assertionResults) {
    if (test.status === 'passed' || test.status === 'failed') continue;
    const name = `${file.name} > ${test.fullName}`;
    if (!ALLOWED_SKIPS.some((a) => a.match.test(name))) skipped.push(name);
  }
}
const notRun = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${notRun} skipped`);
if (skipped.length > 0) {
  console.error(`\n${skipped.length} test(s) skipped that are not on the allow-list in .ci/check-skips.mjs:`);
  for (const name of skipped) console.error(`  - ${name}`);
  process.exit(1);
}
if (report.numTotalTests === 0) {
  console.error('No test ran.');
  process.exit(1);
}
