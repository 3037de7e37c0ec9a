/**
 * Imported history under its own consent. An ActivityWatch export is read into a plan: what the
 * import would upload (period, spans, active and idle time, apps, whether titles are included,
 * which scopes) and what it leaves out and why, history older than the organisation keeps
 * included. Only once the person agrees to that plan is the consent for its past period asked of
 * the server (its own signed receipt); the spans are then stored under that grant and go by the
 * normal sync in batches naming it. Withdrawing the grant erases that history on the server and here.
 * The CLI and the screens both use this; neither decides anything on its own.
 */
import {
  IMPORT_WITHDRAW_PATH,
  ImportConsentResponse,
  ImportGrantList,
  retentionStartMs,
  WIRE_PATHS,
  type CollectionMethod,
  type ConsentReceipt,
  type ImportConsentRequest,
  type ImportGrant,
  type ImportPreview,
  type Scope,
  type TitleMode,
} from '@icarus/shared';
import { ConfigError } from '../config';
import type { Clock } from '../clock';
import { importActivityWatch, parseActivityWatchExport, type ImportSummary } from '../interop/activitywatch';
import { DataFolderBusy, DataFolderLock } from '../store/lock';
import type { AgentStore } from '../store/store';
import type { TokenSource } from '../sync/auth';
import { verifyReceipt } from './service';
import { effectiveScopes } from './gate';

/** What an import would upload, shown to the person before they decide. */
export interface ImportPlan {
  summary: ImportSummary;
  scopes: Scope[];
  preview: ImportPreview;
  /** The period the consent would cover: from the first span's start to the last one's end. */
  fromMs: number;
  toMs: number;
  policyVersion: number;
  titleMode: TitleMode;
  retentionDays: number;
  /** History before this is not stored by the organisation, so it is not imported. */
  keptFromMs: number;
}

/** The numbers of a set of spans, as the preview and the grant state them. */
export function previewOf(spans: ImportSummary['spans']): ImportPreview {
  let activeMs = 0;
  let idleMs = 0;
  const apps = new Set<string>();
  for (const s of spans) {
    if (s.idle) idleMs += s.durationMs;
    else activeMs += s.durationMs;
    if (s.app !== undefined) apps.add(s.app);
  }
  return { spans: spans.length, activeMs, idleMs, apps: apps.size, titles: spans.some((s) => s.title !== undefined) };
}

/**
 * Reads the export into a plan; stores nothing. `scopes` are the ones to import (default: the
 * ones granted on this device now); each must be a scope of the organisation's policy.
 */
export function planActivityWatchImport(store: AgentStore, text: string, now: number, wanted?: readonly Scope[]): ImportPlan {
  const exported = parseActivityWatchExport(text);
  const state = store.state;
  if (state.get('revoked')) throw new ConfigError('this device was revoked by your organisation: nothing can be imported or sent from it');
  if (state.get('binding')?.boundTo === null)
    throw new ConfigError('this computer is bound to nobody yet, so nothing is recorded as anyone: run `icarus-agent pair <code>` first');
  const consent = state.get('consent');
  const policy = state.get('policy');
  if (!wanted && !consent)
    throw new ConfigError(
      'no consent decision yet: run `icarus-agent consent`, or name the scopes to import with --scopes; only the scopes you grant are imported',
    );
  const content = policy?.content ?? consent?.policyContent;
  if (!content) throw new ConfigError('no policy on this device yet: run `icarus-agent consent` first');
  const offered = new Set(content.scopes.map((s) => s.scope));
  for (const scope of wanted ?? []) {
    if (!offered.has(scope)) throw new ConfigError(`--scopes: "${scope}" is not a scope of your organisation's policy, so it cannot be imported either`);
  }
  const scopes = wanted ? [...new Set(wanted)] : [...effectiveScopes({ consent, policy, pauseUntilMs: undefined, now })];
  if (scopes.length === 0) throw new ConfigError('you granted no scope that is in effect, so nothing would be imported');

  // A capturing agent records the time since it started itself: the import leaves that to it.
  let agentRunningSince: number | undefined;
  let lock: DataFolderLock | undefined;
  try {
    lock = DataFolderLock.acquire(store.dataDir, now);
  } catch (error) {
    if (!(error instanceof DataFolderBusy) || error.holder === undefined) throw error;
    agentRunningSince = error.holder.sinceMs;
  } finally {
    lock?.release();
  }
  const covered = store.spans
    .everything()
    .filter((s) => s.rejectedReason === null)
    .map((s) => [s.start, s.start + s.durationMs] as const);
  const keptFromMs = retentionStartMs(now, content.retentionDays);
  const summary = importActivityWatch(exported, {
    scopes: new Set(scopes),
    title: { titleMode: content.titleMode, redactionRules: content.redactionRules },
    covered,
    now,
    notBefore: keptFromMs,
    ...(agentRunningSince !== undefined && { agentRunningSince }),
  });
  const first = summary.spans.reduce((m, s) => Math.min(m, s.start), Infinity);
  const last = summary.spans.reduce((m, s) => Math.max(m, s.start + s.durationMs), -Infinity);
  return {
    summary,
    scopes,
    preview: previewOf(summary.spans),
    fromMs: Number.isFinite(first) ? first : now,
    toMs: Number.isFinite(last) ? last : now,
    policyVersion: policy?.version ?? consent?.policyVersion ?? 0,
    titleMode: content.titleMode,
    retentionDays: content.retentionDays,
    keptFromMs,
  };
}

/** The plan's spans stored under the grant (ids already on the device are left as they are): how many are new. */
export function storeImport(store: AgentStore, plan: ImportPlan, grantId: string, now: number): number {
  return store.spans.insert(plan.summary.spans, now, grantId);
}

export interface GrantOutcome {
  grant: ImportGrant;
  receipt: ConsentReceipt;
  verified: boolean;
  verifyProblem?: string;
  /** Spans newly stored on this device, sent with the next sync. */
  stored: number;
}

export interface WithdrawOutcome {
  grant: ImportGrant;
  /** The withdrawal's receipt; absent when the server could not be told (this device was revoked). */
  receipt?: ConsentReceipt;
  verified: boolean;
  /** Spans the server erased; null when it could not be told, so its copy and the consent stand. */
  erasedOnServer: number | null;
  erasedHere: number;
}

/** The server side of imports: the grant for a plan, its withdrawal, the list. */
export class HistoryImports {
  constructor(
    private readonly store: AgentStore,
    private readonly tokens: TokenSource,
    private readonly clock: Clock,
    private readonly agentVersion: string,
  ) {}

  /** Asks the server for the consent the plan describes, verifies its receipt, then stores the spans under it. */
  async grant(plan: ImportPlan, method: CollectionMethod): Promise<GrantOutcome> {
    if (plan.summary.spans.length === 0) throw new ConfigError('nothing to import: no consent is asked for an empty import');
    const body: ImportConsentRequest = {
      policyVersion: plan.policyVersion,
      scopes: plan.scopes,
      from: new Date(plan.fromMs).toISOString(),
      to: new Date(plan.toMs).toISOString(),
      source: 'activitywatch',
      preview: plan.preview,
      method,
      agentVersion: this.agentVersion,
    };
    const answer = await this.tokens.api.request('POST', WIRE_PATHS.consentImports, ImportConsentResponse, { body, bearer: await this.tokens.token() });
    const check = await this.verify(answer.receipt);
    this.store.state.addReceipt(answer.receipt, this.clock.now(), check.verified);
    this.remember(answer.grant);
    const stored = storeImport(this.store, plan, answer.grant.id, this.clock.now());
    return { grant: answer.grant, receipt: answer.receipt, stored, ...check };
  }

  /**
   * Withdraws a grant: the server erases its history (rollups follow), and this device deletes its
   * copy. On a revoked device the server refuses to hear anything (and no directive from it can
   * arrive): only this device's copy is deleted, and the outcome says the server was not told.
   */
  async withdraw(id: string): Promise<WithdrawOutcome> {
    if (this.store.state.get('revoked')) {
      const grant = this.known().find((g) => g.id === id);
      if (!grant) throw new ConfigError(`no import ${id} on this computer: \`icarus-agent imports\` lists them`);
      return { grant, verified: false, erasedOnServer: null, erasedHere: this.store.spans.deleteImported(grant.id) };
    }
    const path = IMPORT_WITHDRAW_PATH.replace(':id', encodeURIComponent(id));
    const answer = await this.tokens.api.request('POST', path, ImportConsentResponse, { body: {}, bearer: await this.tokens.token() });
    const check = await this.verify(answer.receipt);
    this.store.state.addReceipt(answer.receipt, this.clock.now(), check.verified);
    this.remember(answer.grant);
    const erasedHere = this.store.spans.deleteImported(answer.grant.id);
    return { grant: answer.grant, receipt: answer.receipt, verified: check.verified, erasedOnServer: answer.erasedSpans ?? 0, erasedHere };
  }

  /** The grants the server holds for this device's person (also kept on the device). */
  async refresh(): Promise<ImportGrant[]> {
    const { grants } = await this.tokens.api.request('GET', WIRE_PATHS.consentImports, ImportGrantList, { bearer: await this.tokens.token() });
    this.store.state.set('imports', grants);
    return grants;
  }

  /** The grants as last seen, without asking the server. */
  known(): ImportGrant[] {
    return this.store.state.get('imports') ?? [];
  }

  private remember(grant: ImportGrant): void {
    const others = this.known().filter((g) => g.id !== grant.id);
    this.store.state.set(
      'imports',
      [...others, grant].sort((a, b) => a.decidedAt.localeCompare(b.decidedAt)),
    );
  }

  private async verify(receipt: ConsentReceipt): Promise<{ verified: boolean; verifyProblem?: string }> {
    return verifyReceipt(this.tokens.api, receipt).then(
      () => ({ verified: true }),
      (error: unknown) => ({ verified: false, verifyProblem: error instanceof Error ? error.message : String(error) }),
    );
  }
}
