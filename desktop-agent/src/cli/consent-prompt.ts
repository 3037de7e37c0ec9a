import { createInterface } from 'node:readline';
import {
  managerPreview,
  managersSentence,
  receiptFacts,
  visibilityOf,
  type EmployeeNotice,
  type Policy,
  type PolicyDiff,
  type Scope,
  type ScopeTerms,
} from '@icarus/shared';
import { describeTitleMode, redactionProblems, transformTitle } from '../core/capture/title';
import type { FrontWindow } from '../core/capture/sources';
import type { DecisionOutcome } from '../core/consent/service';

export type Write = (text: string) => void;

/** One line per scope saying what it records, shown with this machine's current window. */
export function exampleFor(scope: Scope, policy: Policy, front: FrontWindow | undefined): string {
  const c = policy.content;
  switch (scope) {
    case 'app_usage':
      return `which app is in front and for how long, e.g. ${front ? JSON.stringify(front.app) : '"Firefox"'} from 09:14 to 09:21`;
    case 'window_titles':
      return `${describeTitleMode(c.titleMode)}, e.g. ${front ? JSON.stringify(transformTitle(front.title, c)) : '(no window is in front right now)'}`;
    case 'idle':
      return `when there was no keyboard or mouse input for ${c.idleThresholdSeconds} s or more, as a period with no app or title, e.g. idle from 12:02 to 12:47`;
  }
}

export function printPolicy(policy: Policy, write: Write): void {
  const c = policy.content;
  write(`Policy v${policy.version} of ${c.controller.name} (${c.controller.contact}), published ${policy.publishedAt}\n`);
  write(`  ${policy.url}  sha256 ${policy.hash}\n\n`);
  write(`${c.purpose}\n\n`);
  write(`Kept on the server for ${c.retentionDays} days. ${managersSentence(c)}\n`);
  write('What your manager will see about you:\n');
  for (const line of managerPreview(visibilityOf(c))) write(`  - ${line}\n`);
  if (c.reviewBeforeSendMinutes > 0)
    write(`Spans wait ${c.reviewBeforeSendMinutes} minutes on this device before they are sent; see them with \`icarus-agent my-data\`.\n`);
  for (const problem of redactionProblems(c)) write(`Note: ${problem}.\n`);
  write('No screenshots, keystrokes, or webcam, ever.\n\n');
}

/** "What changed" since the version the person decided on, before they are asked again. */
export function printPolicyDiff(diff: PolicyDiff, write: Write): void {
  write(`What changed since v${diff.fromVersion ?? '?'} (the version you last decided on):\n`);
  if (diff.changes.length === 0) write('  nothing you would notice (the text was republished)\n');
  for (const c of diff.changes) write(`  ${c.widens ? '!' : '-'} ${c.summary}${c.widens ? ' (asks more of you)' : ''}\n`);
  if (diff.widenedScopes.length > 0) write(`Not recorded until you decide again: ${diff.widenedScopes.join(', ')}\n`);
  write('\n');
}

/** The employee notice of the version in force, and whether it was acknowledged. */
export function printNotice(notice: EmployeeNotice, write: Write): void {
  write(`${notice.title} (policy v${notice.version})\n`);
  for (const section of notice.sections) {
    write(`\n${section.title}\n`);
    for (const p of section.paragraphs) write(`  ${p}\n`);
  }
  write(
    notice.acknowledgedAt
      ? `\nYou acknowledged this notice on ${notice.acknowledgedAt}.\n\n`
      : '\nAcknowledging says you received and read this notice; it grants nothing.\n',
  );
}

export const NOTICE_QUESTION = 'Acknowledge that you have read this notice? [y/n] ';

type Lines = AsyncIterator<string>;

/** One y/n answer from the lines; undefined when input ended first. */
async function yesNo(lines: Lines, q: string, write: Write, input: NodeJS.ReadableStream): Promise<boolean | undefined> {
  for (;;) {
    write(q);
    const next = await lines.next();
    if (next.done) return undefined;
    const answer = next.value.trim().toLowerCase();
    // A terminal echoes the answer itself; piped input would leave the transcript unreadable.
    if (!('isTTY' in input && input.isTTY === true)) write(`${answer}\n`);
    if (answer === 'y' || answer === 'yes') return true;
    if (answer === 'n' || answer === 'no') return false;
    write('  please answer y or n\n');
  }
}

/** Asks the notice question alone (the `notice` command). */
export async function askNotice(write: Write, input: NodeJS.ReadableStream = process.stdin): Promise<boolean | undefined> {
  const rl = createInterface({ input, terminal: false });
  try {
    return await yesNo(rl[Symbol.asyncIterator](), NOTICE_QUESTION, write, input);
  } finally {
    rl.close();
  }
}

function question(terms: ScopeTerms): string {
  return terms.legalBasis === 'consent'
    ? `Do you consent to "${terms.scope}"? [y/n] `
    : `"${terms.scope}" rests on legitimate interest; answer n to object. Record it? [y/n] `;
}

/**
 * Asks per scope, reading answers line by line from standard input, whether or not it is a
 * terminal (so it can be driven by a pipe in tests, but never skipped: there is no flag). With a
 * notice not yet acknowledged, its question follows the scopes. Returns the scopes granted and
 * whether the notice was acknowledged, or undefined when input ended before every scope was answered.
 */
export async function askScopes(
  policy: Policy,
  front: FrontWindow | undefined,
  write: Write,
  input: NodeJS.ReadableStream = process.stdin,
  notice?: EmployeeNotice,
): Promise<{ granted: Scope[]; noticeAcknowledged: boolean } | undefined> {
  const rl = createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const granted: Scope[] = [];
  try {
    for (const terms of policy.content.scopes) {
      write(`• ${terms.scope}: ${terms.purpose}\n  basis: ${terms.legalBasis.replace('_', ' ')}\n  records ${exampleFor(terms.scope, policy, front)}\n`);
      const answer = await yesNo(lines, question(terms), write, input);
      if (answer === undefined) return undefined;
      if (answer) granted.push(terms.scope);
    }
    // The notice's question comes last: input that ends before it still decides the scopes.
    if (!notice || notice.acknowledgedAt !== null) return { granted, noticeAcknowledged: false };
    const acknowledged = await yesNo(lines, NOTICE_QUESTION, write, input);
    if (acknowledged === undefined) write('(no answer)\n');
    return { granted, noticeAcknowledged: acknowledged === true };
  } finally {
    rl.close();
  }
}

export function printReceipt(outcome: DecisionOutcome, write: Write): void {
  const p = outcome.receipt.payload;
  const facts = receiptFacts(p);
  write(`\nReceipt ${facts.receiptId} (${p.decision}, ${p.collectionMethod}) at ${facts.consentAt}\n`);
  write(`  policy v${p.policy.version} sha256 ${p.policy.hash}\n`);
  write(`  granted: ${p.scopesGranted.join(', ') || 'nothing'}\n`);
  for (const purpose of facts.purposes) {
    write(`  ${purpose.granted ? '✓' : '✗'} ${purpose.scope} (${purpose.legalBasis}): ${purpose.fieldsCollected.join(', ')}; ${purpose.onDeviceTransform}\n`);
  }
  write(`  visibility: ${p.visibility.summary}\n`);
  write(
    outcome.verified
      ? "  signature: verified against the server's published receipt key (Ed25519)\n"
      : `  signature: NOT verified (${outcome.verifyProblem ?? 'unknown problem'}); the receipt is kept, marked unverified\n`,
  );
  if (outcome.withdrawn.length > 0) {
    write(`  withdrawn: ${outcome.withdrawn.join(', ')}; ${outcome.purged} unsent spans removed from this device\n`);
  }
}
