import { createHash } from 'node:crypto';
import { RE2JS } from 're2js';
import type { RedactionRule, TitleMode } from '@icarus/shared';

/** The wire limit for a title, in characters. */
const MAX_TITLE = 1024;

export interface TitlePolicy {
  titleMode: TitleMode;
  redactionRules: readonly RedactionRule[];
}

type Compiled = { ok: true; regex: RE2JS } | { ok: false; problem: string };

/**
 * Redaction rules run on every window title, every second, with patterns the organisation wrote:
 * they run on RE2 (re2js), whose matching time is linear in the title whatever the pattern, so a
 * pattern like `^(a|a)*$` cannot freeze the agent the way a backtracking RegExp would. RE2 has no
 * backreferences or lookaround; a pattern that needs them cannot run here and is reported.
 */
const compiled = new Map<string, Compiled>();

function compile(pattern: string): Compiled {
  let entry = compiled.get(pattern);
  if (!entry) {
    try {
      entry = { ok: true, regex: RE2JS.compile(pattern) };
    } catch (error) {
      entry = { ok: false, problem: error instanceof Error ? error.message : String(error) };
    }
    if (compiled.size > 1000) compiled.clear(); // policies change rarely; this only bounds a pathological churn
    compiled.set(pattern, entry);
  }
  return entry;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The redaction rules of a policy that cannot run on this device, one line each, for the log,
 * the status and the consent prompt. While any is in the policy, titles are kept hashed.
 */
export function redactionProblems(policy: TitlePolicy): string[] {
  if (policy.titleMode !== 'redacted') return [];
  return policy.redactionRules.flatMap((rule, i) => {
    const c = compile(rule.pattern);
    return c.ok
      ? []
      : [
          `redaction rule ${i + 1} (${JSON.stringify(rule.pattern)}) cannot run on this device: ${c.problem}; window titles are kept only as a SHA-256 hash until the policy fixes it`,
        ];
  });
}

/**
 * Turns a raw window title into what the policy allows to be stored:
 * `full` keeps it, `redacted` replaces every match of each rule (in order),
 * `hashed` keeps only the sha256 hex of the full title (equal titles stay comparable,
 * the text itself never leaves the process). A redaction rule that cannot run would leave
 * what it should remove, so then the title is hashed: never kept with that text in clear.
 */
export function transformTitle(raw: string, policy: TitlePolicy): string {
  switch (policy.titleMode) {
    case 'full':
      return raw.slice(0, MAX_TITLE);
    case 'hashed':
      return sha256(raw);
    case 'redacted': {
      const steps = policy.redactionRules.map((rule) => ({ rule, compiled: compile(rule.pattern) }));
      let title = raw;
      for (const { rule, compiled } of steps) {
        if (!compiled.ok) return sha256(raw);
        title = compiled.regex.matcher(title).replaceAll(rule.replacement);
      }
      return title.slice(0, MAX_TITLE);
    }
  }
}

/** One line for the consent prompt explaining the transform, also quoted in status. */
export function describeTitleMode(mode: TitleMode): string {
  switch (mode) {
    case 'full':
      return 'the window title as shown';
    case 'redacted':
      return "the window title with the policy's redaction rules applied on this device";
    case 'hashed':
      return 'a SHA-256 hash of the window title (the text itself never leaves this device)';
  }
}
