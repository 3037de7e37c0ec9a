import { RE2JS } from 're2js';

/**
 * Every pattern an admin writes (category rules, policy redaction rules) runs on RE2: linear
 * in the input whatever the pattern, so no rule can block the process by backtracking. RE2
 * has no backreferences or lookaround; such patterns are refused when saved.
 */
export const RE2_PATTERN_PROBLEM = 'not a pattern RE2 can run (no backreferences or lookaround; see github.com/google/re2/wiki/Syntax)';

export function compileRe2(source: string, caseInsensitive = false): RE2JS {
  return RE2JS.compile(source, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
}

export function isRe2Pattern(source: string): boolean {
  try {
    compileRe2(source);
    return true;
  } catch {
    return false;
  }
}
