import {
  SCOPES,
  canonicalJson,
  type ImportPlanView,
  type AgentState,
  type IpcHandlers,
  type MyDataView,
  type Policy,
  type ReceiptView,
  type Scope,
  type SpanView,
  type StatusView,
} from '@icarus/shared';
import { describeGate, effectiveScopes } from '../core/consent/gate';
import { planActivityWatchImport, type ImportPlan } from '../core/consent/imports';
import { ConfigError } from '../core/config';
import { ActivityWatchFormatError } from '../core/interop/activitywatch';
import { readFileSync } from 'node:fs';
import { describeTitleMode, transformTitle } from '../core/capture/title';
import type { StoredReceipt } from '../core/store/state';
import { csvCell } from '../core/store/csv';
import type { StoredSpan } from '../core/store/spans';
import type { AgentPort } from './agent-port';
import { IpcRefusal } from './dispatch';
import { examples, format } from './pages/strings';

const MINUTE_MS = 60_000;

/** A stalled sync this old (or one that failed last) counts as offline in the tray. */
const OFFLINE_AFTER_MS = 15 * MINUTE_MS;

export interface StateInput {
  enrolled: boolean;
  /** Revoked by the organisation: final, so it outranks even a pending decision. */
  revoked?: boolean;
  hasDecision: boolean;
  pendingDecision: boolean;
  paused: boolean;
  captureFailing: boolean;
  syncFailing: boolean;
}

/** The tray's state, most urgent first: a person's decision outranks everything technical. */
export function agentState(s: StateInput): AgentState {
  if (s.revoked) return 'revoked';
  if (!s.enrolled) return 'not_enrolled';
  if (!s.hasDecision || s.pendingDecision) return 'waiting_for_consent';
  if (s.paused) return 'paused';
  if (s.captureFailing) return 'capture_failing';
  if (s.syncFailing) return 'offline';
  return 'recording';
}

/** Local midnight at the start of `day` (YYYY-MM-DD), or of today. */
export function localDayStart(day: string | undefined, now: number): number {
  if (day === undefined) {
    const d = new Date(now);
    return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  }
  const [y, m, dd] = day.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, dd ?? 1).getTime();
}

function isoDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function pauseUntil(preset: '15m' | '1h' | 'tomorrow', now: number): number {
  if (preset === '15m') return now + 15 * MINUTE_MS;
  if (preset === '1h') return now + 60 * MINUTE_MS;
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
}

function spanView(s: StoredSpan, now: number, holdMs: number): SpanView {
  const end = s.start + s.durationMs;
  let status: SpanView['status'] = 'pending';
  if (s.syncedMs !== null) status = 'sent';
  else if (s.rejectedReason !== null) status = 'rejected';
  else if (holdMs > 0 && s.batchId === null && end + holdMs > now) status = 'held_for_review';
  return {
    id: s.id,
    start: new Date(s.start).toISOString(),
    durationMs: s.durationMs,
    app: s.app ?? null,
    title: s.title ?? null,
    idle: s.idle === true,
    status,
    sendableAt: holdMs > 0 && s.syncedMs === null ? new Date(end + holdMs).toISOString() : null,
    rejectedReason: s.rejectedReason,
  };
}

function receiptView(r: StoredReceipt): ReceiptView {
  return { receipt: r.receipt, receivedAt: new Date(r.receivedMs).toISOString(), verified: r.verified };
}

const CSV_COLUMNS = ['id', 'start', 'durationMs', 'app', 'title', 'idle', 'status'] as const;

/** The plan as the screens show it. */
function planView(p: ImportPlan): ImportPlanView {
  return {
    preview: p.preview,
    scopes: p.scopes,
    from: new Date(p.fromMs).toISOString(),
    to: new Date(p.toMs).toISOString(),
    titleMode: p.titleMode,
    retentionDays: p.retentionDays,
    keptFrom: new Date(p.keptFromMs).toISOString(),
    skipped: [...p.summary.skipped].map(([reason, { count, ms }]) => ({ reason, count, ms })),
  };
}

/** Builds the contract's handlers over the agent; every screen in every shell goes through these. */
export function createAgentHandlers(agent: AgentPort): IpcHandlers {
  const { store, clock } = agent;
  const changed = () => agent.onChange?.();
  const messages = () => ({
    messages: [...(store.state.get('messages') ?? [])].reverse().map((m) => ({ id: m.id, text: m.text, receivedAt: new Date(m.receivedMs).toISOString() })),
  });

  /** The export at `path` read into what its import would upload; a file that is not one is refused in words. */
  const plan = (path: string, scopes: Scope[] | undefined): ImportPlan => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new IpcRefusal('failed', `Cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      return planActivityWatchImport(store, text, clock.now(), scopes);
    } catch (error) {
      if (error instanceof ConfigError || error instanceof ActivityWatchFormatError) throw new IpcRefusal('failed', error.message);
      throw error;
    }
  };

  const holdMs = () => (store.state.get('policy')?.content.reviewBeforeSendMinutes ?? 0) * MINUTE_MS;

  const status = async (): Promise<StatusView> => {
    const now = clock.now();
    const consent = store.state.get('consent');
    const policy = store.state.get('policy');
    const pauseUntilMs = store.state.get('pauseUntilMs');
    const revoked = store.state.get('revoked');
    const device = store.state.device();
    const runtime = agent.runtime();
    const gate = { consent, policy, pauseUntilMs, revoked, now };
    const paused = pauseUntilMs !== undefined && now < pauseUntilMs;
    const lastOk = runtime.lastSyncMs;
    const syncFailing = runtime.lastSyncError !== undefined && (lastOk === undefined || now - lastOk > OFFLINE_AFTER_MS);
    return {
      state: agentState({
        enrolled: device !== undefined,
        revoked: revoked !== undefined,
        hasDecision: consent !== undefined,
        pendingDecision: (consent?.pending.length ?? 0) > 0,
        paused,
        captureFailing: runtime.captureSources.some((s) => !s.ok),
        syncFailing,
      }),
      summary: describeGate(gate),
      pausedUntil: paused && pauseUntilMs !== undefined ? new Date(pauseUntilMs).toISOString() : null,
      pendingSpans: store.spans.pendingCount(),
      droppedSpans: store.spans.droppedCount(),
      lastSyncAt: lastOk === undefined ? null : new Date(lastOk).toISOString(),
      lastSyncError: runtime.lastSyncError ?? null,
      scopesActive: [...effectiveScopes(gate)],
      captureSources: runtime.captureSources,
      agentVersion: agent.agentVersion,
      serverUrl: device?.serverUrl ?? null,
      deviceId: device?.deviceId ?? null,
    };
  };

  /** What this computer shows right now for each scope's example, or undefined when the agent cannot see it. */
  const exampleValues: Record<Scope, (policy: Policy) => Promise<Record<string, string> | undefined>> = {
    app_usage: async () => {
      const win = await agent.frontWindow();
      return win && { app: win.app };
    },
    idle: async () => {
      const idle = await agent.idleMs();
      return idle === undefined ? undefined : { seconds: String(Math.round(idle / 1000)) };
    },
    window_titles: async (policy) => {
      const win = await agent.frontWindow();
      return win && { app: win.app, title: transformTitle(win.title, policy.content) };
    },
  };

  /** "What this scope records", from what this computer shows right now. */
  const exampleFor = async (scope: Scope, policy: Policy): Promise<string> => {
    const { live, unavailable } = SCOPES[scope].example;
    const values = await exampleValues[scope](policy);
    return values === undefined ? unavailable : format(live, values);
  };

  return {
    'status:get': status,

    'consent:get': async () => {
      // Whose consent this is comes first; offline, the last answer the server gave is shown.
      const binding = agent.binding ? await agent.binding.refresh().catch(() => agent.binding?.known()) : undefined;
      const unbound = binding !== undefined && binding.boundTo === null;
      const policy = store.state.get('policy');
      const consent = store.state.get('consent');
      const scopes = policy
        ? await Promise.all(
            policy.content.scopes.map(async (terms) => ({
              scope: terms.scope,
              purpose: terms.purpose,
              legalBasis: terms.legalBasis,
              example: await exampleFor(terms.scope, policy),
              granted: consent?.granted.includes(terms.scope) ?? false,
              needsDecision: consent === undefined || consent.pending.includes(terms.scope),
            })),
          )
        : [];
      // A revoked device can send no decision, so it never asks for one.
      // Nor does a computer bound to nobody: no one could give it.
      const decisionNeeded =
        policy !== undefined && !unbound && store.state.get('revoked') === undefined && (consent === undefined || consent.pending.length > 0);
      // Re-asked after a policy change: say what changed since the version they decided on.
      // The comparison only helps; the full policy below is what they decide on, so a server
      // that cannot be reached just leaves it out.
      const changes =
        decisionNeeded && consent !== undefined
          ? await agent.consent.changesSinceDecision().then(
              (diff) => diff?.changes,
              () => undefined,
            )
          : undefined;
      return {
        policy: policy
          ? {
              version: policy.version,
              hash: policy.hash,
              url: policy.url,
              controller: policy.content.controller,
              purpose: policy.content.purpose,
              titleMode: policy.content.titleMode,
              titleModeText: describeTitleMode(policy.content.titleMode),
              retentionDays: policy.content.retentionDays,
              minGroupSize: policy.content.minGroupSize,
              managersSeeIndividuals: policy.content.managersSeeIndividuals,
              reviewBeforeSendMinutes: policy.content.reviewBeforeSendMinutes,
            }
          : null,
        scopes,
        decisionNeeded,
        ...(changes !== undefined && changes.length > 0 && { changes }),
        osUser: agent.osUser,
        ...(binding !== undefined && { boundTo: binding.boundTo }),
      };
    },

    'notice:get': async () => {
      const unavailable = (reason: string) => ({ available: false, reason, notice: null, acknowledgmentNeeded: false });
      if (!agent.notice) return unavailable(examples.serverLacksNotice);
      // Only a person can acknowledge: a computer bound to nobody asks no one (as for consent).
      const binding = agent.binding ? await agent.binding.refresh().catch(() => agent.binding?.known()) : undefined;
      if (binding !== undefined && binding.boundTo === null) return unavailable(examples.noticeUnbound);
      try {
        const notice = await agent.notice.fetch();
        return { available: true, reason: null, notice, acknowledgmentNeeded: notice.acknowledgedAt === null };
      } catch (error) {
        return unavailable(format(examples.noticeUnreachable, { problem: error instanceof Error ? error.message : String(error) }));
      }
    },

    'notice:acknowledge': async ({ version, hash }) => {
      if (!agent.notice) throw new IpcRefusal('unavailable', examples.serverLacksNotice);
      const done = await agent.notice.acknowledge(version, hash).catch((error: unknown) => {
        // A newer version was published while the person read: they must read that one.
        throw new IpcRefusal('failed', error instanceof Error ? error.message : String(error));
      });
      changed();
      return { version: done.version, acknowledgedAt: done.acknowledgedAt };
    },

    'device:pair': async ({ code }) => {
      if (!agent.binding) throw new IpcRefusal('unavailable', 'This agent cannot reach a server to pair with.');
      const binding = await agent.binding.pair(code);
      changed();
      return { boundTo: binding.boundTo };
    },

    'consent:decide': async ({ policyVersion, granted }) => {
      const policy = store.state.get('policy');
      if (!policy) throw new IpcRefusal('unavailable', 'No policy on this device yet: the agent has not reached the server.');
      // The person read a specific version; if a newer one arrived meanwhile they must read that.
      if (policy.version !== policyVersion)
        throw new IpcRefusal('failed', `The policy changed to version ${policy.version} while you were reading; please review it again.`);
      const offered = new Set(policy.content.scopes.map((s) => s.scope));
      const unknown = granted.filter((s) => !offered.has(s));
      if (unknown.length > 0) throw new IpcRefusal('failed', `Policy version ${policy.version} does not ask for: ${unknown.join(', ')}`);
      const outcome = await agent.consent.decide(granted.length > 0 ? 'granted' : 'declined', granted, 'tray-dialog');
      changed();
      return { receipt: outcome.receipt, receivedAt: new Date(clock.now()).toISOString(), verified: outcome.verified };
    },

    'consent:withdraw': async ({ scopes }) => {
      if (!store.state.get('consent')) throw new IpcRefusal('failed', 'There is no consent to withdraw.');
      const outcome = await agent.consent.decide('withdrawn', scopes, 'tray-dialog');
      changed();
      return { receipt: outcome.receipt, receivedAt: new Date(clock.now()).toISOString(), verified: outcome.verified };
    },

    'receipts:list': async () => ({ receipts: store.state.receipts().map(receiptView).reverse() }),

    'mydata:day': async ({ day }) => {
      const now = clock.now();
      const from = localDayStart(day, now);
      const to = localDayStart(isoDay(from + 36 * 3_600_000), now); // next local midnight, DST-safe
      const hold = holdMs();
      const timeline = store.spans.between(from, to).map((s) => spanView(s, now, hold));
      const totals = new Map<string, number>();
      let idleMs = 0;
      for (const s of timeline) {
        if (s.idle) idleMs += s.durationMs;
        else if (s.app !== null) totals.set(s.app, (totals.get(s.app) ?? 0) + s.durationMs);
      }
      const count = (st: SpanView['status']) => timeline.filter((s) => s.status === st).length;
      const view: MyDataView = {
        day: isoDay(from),
        timeline,
        totals: [...totals].map(([app, activeMs]) => ({ app, activeMs })).sort((a, b) => b.activeMs - a.activeMs),
        idleMs,
        counts: { sent: count('sent'), pending: count('pending'), heldForReview: count('held_for_review'), rejected: count('rejected') },
        reviewBeforeSendMinutes: hold / MINUTE_MS,
      };
      return view;
    },

    'mydata:forget': async ({ spanIds }) => {
      let deleted = 0;
      for (const id of spanIds) deleted += store.spans.forget(id);
      changed();
      return { deleted };
    },

    'mydata:export': async ({ format: kind }) => {
      const now = clock.now();
      const hold = holdMs();
      const spans = store.spans.everything().map((s) => spanView(s, now, hold));
      const stamp = isoDay(now);
      if (kind === 'json') {
        const content = JSON.stringify({ exportedAt: new Date(now).toISOString(), deviceId: store.state.device()?.deviceId ?? null, spans }, null, 2);
        return { filename: `icarus-my-data-${stamp}.json`, mimeType: 'application/json', content };
      }
      const rows = spans.map((s) => CSV_COLUMNS.map((c) => csvCell(s[c])).join(','));
      return { filename: `icarus-my-data-${stamp}.csv`, mimeType: 'text/csv', content: [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n' };
    },

    'mydata:viewers': async () => {
      if (!agent.viewers) return { available: false, reason: examples.serverLacksViewers, entries: [] };
      return { available: true, reason: null, entries: await agent.viewers() };
    },

    'mydata:erase': async () => {
      if (!agent.requestErasure) return { available: false, reason: examples.serverLacksErasure, requestedAt: null };
      const { requestedAt } = await agent.requestErasure();
      changed();
      return { available: true, reason: null, requestedAt };
    },

    'imports:preview': async ({ path, scopes }) => planView(plan(path, scopes)),

    'imports:grant': async ({ path, scopes, shown }) => {
      if (!agent.imports) throw new IpcRefusal('unavailable', examples.serverLacksImports);
      const current = plan(path, scopes);
      // The consent is for what the person read: a file changed since then is shown again first.
      if (canonicalJson(current.preview) !== canonicalJson(shown))
        throw new IpcRefusal('failed', 'The export reads differently from what you were shown; look at the preview again before deciding.');
      const outcome = await agent.imports.grant(current, 'tray-dialog');
      changed();
      return { grant: outcome.grant, receipt: outcome.receipt, verified: outcome.verified, stored: outcome.stored };
    },

    'imports:list': async () => {
      const fileDialog = agent.chooseImportFile !== undefined;
      if (!agent.imports) return { grants: [], fileDialog };
      return { grants: await agent.imports.refresh().catch(() => agent.imports?.known() ?? []), fileDialog };
    },

    'imports:choose-file': async () => {
      if (!agent.chooseImportFile) throw new IpcRefusal('unavailable', examples.noFileDialog);
      return { path: await agent.chooseImportFile() };
    },

    'imports:withdraw': async ({ id }) => {
      if (!agent.imports) throw new IpcRefusal('unavailable', examples.serverLacksImports);
      const outcome = await agent.imports.withdraw(id);
      changed();
      return { grant: outcome.grant, erasedOnServer: outcome.erasedOnServer, erasedHere: outcome.erasedHere };
    },

    'messages:list': async () => messages(),

    'messages:dismiss': async ({ id }) => {
      const kept = store.state.get('messages') ?? [];
      if (!kept.some((m) => m.id === id)) throw new IpcRefusal('failed', 'That message is no longer on this computer; the list is shown again.');
      store.state.set(
        'messages',
        kept.filter((m) => m.id !== id),
      );
      changed();
      return messages();
    },

    'pause:set': async ({ preset }) => {
      store.state.set('pauseUntilMs', pauseUntil(preset, clock.now()));
      changed();
      return status();
    },

    'pause:resume': async () => {
      store.state.delete('pauseUntilMs');
      changed();
      return status();
    },
  };
}
