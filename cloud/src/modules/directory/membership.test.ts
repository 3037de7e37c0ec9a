import { describe, expect, it } from 'vitest';
import { teamOnDay } from './membership';

describe('team on a day, from membership history', () => {
  const teamOf = teamOnDay([
    { userId: 'u', teamId: 'A', validFrom: null, validTo: '2026-03-10' },
    { userId: 'u', teamId: null, validFrom: '2026-03-10', validTo: '2026-04-01' },
    { userId: 'u', teamId: 'B', validFrom: '2026-04-01', validTo: null },
  ]);

  it('gives each day the team the person was in that day; a move takes effect on its own day', () => {
    expect(teamOf('u', '2025-01-01', 'B')).toBe('A');
    expect(teamOf('u', '2026-03-09', 'B')).toBe('A');
    expect(teamOf('u', '2026-03-10', 'B')).toBeNull();
    expect(teamOf('u', '2026-03-31', 'B')).toBeNull();
    expect(teamOf('u', '2026-04-01', 'A')).toBe('B');
  });

  it('falls back to the current team for someone with no recorded history', () => {
    expect(teamOf('someone-else', '2026-03-09', 'C')).toBe('C');
  });
});
