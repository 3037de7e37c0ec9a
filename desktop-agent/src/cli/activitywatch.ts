import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { scopeInfo, type ImportGrant } from '@icarus/shared';
import type { GrantOutcome, ImportPlan, WithdrawOutcome } from '../core/consent/imports';
import { exportActivityWatch } from '../core/interop/activitywatch';
import type { AgentStore } from '../core/store/store';
import type { Write } from './consent-prompt';

const minutes = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);
const hours = (ms: number) => (ms < 3_600_000 ? minutes(ms) : `${(ms / 3_600_000).toFixed(1)} h`);
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * What `icarus-agent import-activitywatch` would upload, before anything is asked or stored:
 * the period, the time, the apps, whether titles go, the scopes, and what is left out and why.
 */
export function printImportPlan(plan: ImportPlan, serverUrl: string, write: Write): void {
  const { preview, summary } = plan;
  if (preview.spans === 0) {
    write('this export holds nothing to import for the scopes chosen\n');
  } else {
    write(`This import uploads to your organisation (${serverUrl}):\n`);
    write(`  period:  ${new Date(plan.fromMs).toISOString()} to ${new Date(plan.toMs).toISOString()} (${day(plan.fromMs)} to ${day(plan.toMs)})\n`);
    write(`  time:    ${hours(preview.activeMs)} active, ${hours(preview.idleMs)} idle, in ${preview.spans} spans\n`);
    write(`  apps:    ${preview.apps}\n`);
    write(`  titles:  ${preview.titles ? `included (${plan.titleMode}, as your organisation's policy says)` : 'not included'}\n`);
    write(`  scopes:  ${plan.scopes.map((s) => `${s} (${scopeInfo(s).label.toLowerCase()})`).join(', ')}\n`);
  }
  if (summary.skipped.size > 0) {
    write('left out:\n');
    for (const [reason, { count, ms }] of [...summary.skipped].sort((a, b) => b[1].ms - a[1].ms))
      write(`  ${minutes(ms).padStart(8)} in ${count} ${count === 1 ? 'event' : 'events'}: ${reason}\n`);
  }
  const old = summary.skipped.get('older than your organisation keeps history (its retention)');
  if (old) write(`history before ${day(plan.keptFromMs)} is not stored: your organisation keeps ${plan.retentionDays} days\n`);
}

/** Asks the person to agree to the plan; true only for y or yes. Piped input is echoed, as the consent prompt does. */
export async function confirmImport(write: Write, input: NodeJS.ReadableStream = process.stdin): Promise<boolean> {
  write(
    '\nUploading this history is a consent for that past period and those scopes, recorded with its own signed receipt.\n' +
      'You can withdraw it later with `icarus-agent withdraw-import <id>`, which erases this history again.\n' +
      'Upload it? [y/N] ',
  );
  const rl = createInterface({ input, terminal: false });
  try {
    const next = await rl[Symbol.asyncIterator]().next();
    const answer = next.done ? '' : next.value.trim().toLowerCase();
    if (!('isTTY' in input && input.isTTY === true)) write(`${answer}\n`);
    return answer === 'y' || answer === 'yes';
  } finally {
    rl.close();
  }
}

export function printGrant(outcome: GrantOutcome, write: Write): void {
  write(`\nimport consent ${outcome.grant.id} recorded at ${outcome.grant.decidedAt}\n`);
  write(`  covers ${outcome.grant.from} to ${outcome.grant.to} for ${outcome.grant.scopes.join(', ')}\n`);
  write(
    outcome.verified
      ? "  receipt signature: verified against the server's published receipt key (Ed25519)\n"
      : `  receipt signature: NOT verified (${outcome.verifyProblem ?? 'unknown problem'}); the receipt is kept, marked unverified\n`,
  );
  write(`imported ${outcome.stored} spans; they are sent with the next sync\n`);
}

export function printWithdrawal(outcome: WithdrawOutcome, write: Write): void {
  if (outcome.erasedOnServer === null) {
    write(`erased ${outcome.erasedHere} spans of import ${outcome.grant.id} on this device\n`);
    write(
      '  this device was revoked, so the server could not be told: the import consent and the server\u2019s copy stand;\n' +
        '  withdraw it under My data on the web to erase that copy too\n',
    );
    return;
  }
  write(`import consent ${outcome.grant.id} withdrawn at ${outcome.grant.withdrawnAt ?? ''}\n`);
  write(`  erased ${outcome.erasedOnServer} spans on the server (its reports follow) and ${outcome.erasedHere} on this device\n`);
  if (!outcome.verified) write('  receipt signature: NOT verified; the receipt is kept, marked unverified\n');
}

export function printGrants(grants: readonly ImportGrant[], write: Write): void {
  if (grants.length === 0) {
    write('no history imported on this computer\n');
    return;
  }
  for (const g of grants) {
    const state = g.withdrawnAt ? `withdrawn ${g.withdrawnAt}, history erased` : 'in force';
    write(`${g.id}  ${g.source}  ${g.from} to ${g.to}  ${g.scopes.join(',')}  ${g.preview.spans} spans, ${hours(g.preview.activeMs)} active  (${state})\n`);
  }
}

/** `icarus-agent export --format activitywatch`: every span on this device in aw-server's import shape. */
export function exportActivityWatchFormat(store: AgentStore, now: number, write: Write): void {
  write(`${JSON.stringify(exportActivityWatch(store.spans.everything(), hostname(), now), null, 2)}\n`);
}
