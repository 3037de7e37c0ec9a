import { describe, expect, it } from 'vitest';
import { PolicyContent } from '@icarus/shared';
import { AppError } from '../platform/errors';
import { plainProblem, plainProblems } from './plain-problems';

const labels = {
  purpose: 'the purpose',
  'scopes.*': 'Scope',
  'scopes.*.purpose': 'the purpose',
  'redactionRules.*': 'Redaction rule',
  'redactionRules.*.pattern': 'the pattern',
  retentionDays: 'Server retention (days)',
};

describe('plain-language field problems', () => {
  it('turns zod issues of the policy form into sentences, positions counted from 1', () => {
    const parsed = PolicyContent.safeParse({
      purpose: '',
      scopes: [
        { scope: 'app_usage', purpose: 'Apps.', legalBasis: 'consent' },
        { scope: 'idle', purpose: 'Idle.', legalBasis: 'consent' },
        { scope: 'window_titles', purpose: '', legalBasis: 'consent' },
      ],
      titleMode: 'hashed',
      redactionRules: [],
      idleThresholdSeconds: 300,
      retentionDays: 0,
      minGroupSize: 5,
      managersSeeIndividuals: false,
      reviewBeforeSendMinutes: 0,
      localRetentionDays: 30,
      controller: { name: 'Acme', contact: 'privacy@acme.example' },
    });
    expect(parsed.success).toBe(false);
    const fields = parsed.success ? [] : (AppError.fromZod(parsed.error, 'form').fields ?? []);
    expect(plainProblems(fields, labels)).toEqual(['The purpose is empty', 'Scope 3: the purpose is empty', 'Server retention (days) must be at least 1']);
  });

  it('reads numbers typed as words, missing values and choices', () => {
    expect(plainProblem({ path: 'retentionDays', problem: 'Invalid input: expected number, received NaN' }, labels)).toBe(
      'Server retention (days) must be a whole number',
    );
    expect(plainProblem({ path: 'titleMode', problem: 'Invalid option: expected one of "full"|"redacted"|"hashed"' }, labels)).toBe(
      'TitleMode must be one of full, redacted, hashed',
    );
    expect(plainProblem({ path: 'redactionRules.1.pattern', problem: 'not a valid regular expression' }, labels)).toBe(
      'Redaction rule 2: the pattern is not a valid regular expression',
    );
  });
});
