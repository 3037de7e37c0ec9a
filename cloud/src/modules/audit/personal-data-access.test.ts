import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditTestbed, type AuditTestbed } from '../../../test/support/audit';
import { testDatabaseKinds } from '../../../test/support/database';
import type { AuditService } from './index';

/**
 * The compliance report's "access to personal data": per action, the events that named
 * someone, the distinct users who did them and the distinct people they named, each person
 * once however many events (and repeated lists) name them.
 */
describe.each(testDatabaseKinds())('personal data access counts on %s', (kind) => {
  let bed: AuditTestbed;
  let audit: AuditService;

  beforeAll(async () => {
    bed = await startAuditTestbed(kind, 'access');
    audit = bed.audit;
  }, 120_000);
  afterAll(async () => bed?.stop());

  it('counts events, actors and people exactly, over overlapping and repeated lists', async () => {
    const orgId = uuidv7();
    const other = uuidv7();
    const view = (actorId: string, subjectUserIds: string[], action = 'report.team_summary.viewed', actorType: 'user' | 'system' = 'user') =>
      audit.record({ orgId, actorType, actorId, action, subjectUserIds });
    await view('manager', ['a', 'b', 'c']);
    await view('manager', ['a', 'b', 'c']); // the same team again
    await view('lead', ['c', 'd']); // overlapping
    await view('lead', ['b', 'a', 'c']); // the same people in another order
    await view('manager', [], 'report.team_summary.viewed'); // named nobody: no one's data read
    await view('manager', ['e'], 'report.person_detail.viewed');
    await view('manager', ['e'], 'report.person_detail.viewed');
    await view('system', ['f'], 'rights.erasure.completed', 'system'); // not a user's read
    await audit.record({ orgId: other, actorType: 'user', actorId: 'x', action: 'report.team_summary.viewed', subjectUserIds: ['g', 'h'] });

    const from = new Date(Date.now() - 86_400_000);
    const to = new Date(Date.now() + 86_400_000);
    expect(await audit.personalDataAccess(orgId, from, to)).toEqual([
      { action: 'report.person_detail.viewed', events: 2, actors: 1, people: 1 },
      { action: 'report.team_summary.viewed', events: 4, actors: 2, people: 4 },
    ]);
    // Outside the period: nothing.
    expect(await audit.personalDataAccess(orgId, new Date(Date.now() - 3 * 86_400_000), from)).toEqual([]);
  });
});
