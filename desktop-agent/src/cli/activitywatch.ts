import { hostname } from 'node:os';
import { ConfigError } from '../core/config';
import { effectiveScopes } from '../core/consent/gate';
import { exportActivityWatch, importActivityWatch, parseActivityWatchExport, type AwExport, type ImportSummary } from '../core/interop/activitywatch';
import { DataFolderBusy, DataFolderLock } from '../core/store/lock';
import type { AgentStore } from '../core/store/store';
import type { Write } from './consent-prompt';

const minutes = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

/**
 * `icarus-agent import-activitywatch <file>`: the person's own ActivityWatch history, kept only
 * for the scopes they granted now, stored as unsent spans that the normal sync sends. Nothing is
 * stored when the file is not an export, or when nothing may be recorded for this person.
 */
export function importActivityWatchFile(store: AgentStore, text: string, now: number): ImportSummary {
  const exported = parseActivityWatchExport(text);
  // Held while importing, so no agent starts capturing meanwhile; a running one keeps its time.
  let lock: DataFolderLock | undefined;
  let agentRunningSince: number | undefined;
  try {
    lock = DataFolderLock.acquire(store.dataDir, now);
  } catch (error) {
    if (!(error instanceof DataFolderBusy) || error.holder === undefined) throw error;
    agentRunningSince = error.holder.sinceMs;
  }
  try {
    return importInto(store, exported, now, agentRunningSince);
  } finally {
    lock?.release();
  }
}

function importInto(store: AgentStore, exported: AwExport, now: number, agentRunningSince: number | undefined): ImportSummary {
  const state = store.state;
  if (state.get('revoked')) throw new ConfigError('this device was revoked by your organisation: nothing can be imported or sent from it');
  if (state.get('binding')?.boundTo === null)
    throw new ConfigError('this computer is bound to nobody yet, so nothing is recorded as anyone: run `icarus-agent pair <code>` first');
  const consent = state.get('consent');
  if (!consent) throw new ConfigError('no consent decision yet: run `icarus-agent consent`; only the scopes you grant are imported');
  const policy = state.get('policy');
  const scopes = effectiveScopes({ consent, policy, pauseUntilMs: undefined, now });
  if (scopes.size === 0) throw new ConfigError('you granted no scope that is in effect, so nothing would be imported');
  const content = policy?.content ?? consent.policyContent;
  const covered = store.spans
    .everything()
    .filter((s) => s.rejectedReason === null)
    .map((s) => [s.start, s.start + s.durationMs] as const);
  const summary = importActivityWatch(exported, {
    scopes,
    title: { titleMode: content.titleMode, redactionRules: content.redactionRules },
    covered,
    now,
    // The server refuses time before the device enrolled or before the decision: not imported.
    notBefore: Math.max(consent.effectiveFromMs, state.device()?.enrolledMs ?? -Infinity),
    ...(agentRunningSince !== undefined && { agentRunningSince }),
  });
  store.spans.insert(summary.spans, now);
  return summary;
}

export function printImportSummary(summary: ImportSummary, write: Write): void {
  write(`imported ${summary.spans.length} spans (${minutes(summary.importedMs)}); they are sent with the next sync\n`);
  if (summary.skipped.size === 0) return;
  write('skipped:\n');
  for (const [reason, { count, ms }] of [...summary.skipped].sort((a, b) => b[1].ms - a[1].ms))
    write(`  ${minutes(ms).padStart(8)} in ${count} ${count === 1 ? 'event' : 'events'}: ${reason}\n`);
}

/** `icarus-agent export --format activitywatch`: every span on this device in aw-server's import shape. */
export function exportActivityWatchFormat(store: AgentStore, now: number, write: Write): void {
  write(`${JSON.stringify(exportActivityWatch(store.spans.everything(), hostname(), now), null, 2)}\n`);
}
