import { createHash } from 'node:crypto';
import type { RedactionRule, TitleMode } from '@icarus/shared';

/** The wire limit for a title, in characters. */
const MAX_TITLE = 1024;

export interface TitlePolicy {
  titleMode: TitleMode;
  redactionRules: readonly RedactionRule[];
}

/**
 * Turns a raw window title into what the policy allows to be stored:
 * `full` keeps it, `redacted` replaces every match of each rule (in order),
 * `hashed` keeps only the sha256 hex of the full title (equal titles stay comparable,
 * the text itself never leaves the process).
 */
export function transformTitle(raw: string, policy: TitlePolicy): string {
  switch (policy.titleMode) {
    case 'full':
      return raw.slice(0, MAX_TITLE);
    case 'hashed':
      return createHash('sha256').update(raw, 'utf8').digest('hex');
    case 'redacted': {
      let title = raw;
      for (const rule of policy.redactionRules) title = title.replace(new RegExp(rule.pattern, 'gu'), rule.replacement);
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
