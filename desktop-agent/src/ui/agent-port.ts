import type { CaptureSourceStatus, DeviceBinding, EmployeeNotice, NoticeAcknowledgment, ViewerEntry } from '@icarus/shared';
import type { Clock } from '../core/clock';
import type { FrontWindow } from '../core/capture/sources';
import type { ConsentService } from '../core/consent/service';
import type { HistoryImports } from '../core/consent/imports';
import type { AgentStore } from '../core/store/store';
import type { Agent } from '../core/agent';
import { describeAction, type DataView } from '../core/sync/rights';

/** What the running agent knows that is not in the store: live source health and sync results. */
export interface AgentRuntime {
  captureSources: CaptureSourceStatus[];
  lastSyncMs: number | undefined;
  lastSyncError: string | undefined;
}

/**
 * The smallest part of the agent the screens need, shared by the Electron shell and the
 * headless agent. Core has no single facade yet; when it gains one, it should satisfy this
 * interface (see the report to the core owner) and this file becomes a type alias.
 */
export interface AgentPort {
  readonly store: AgentStore;
  readonly consent: Pick<ConsentService, 'decide' | 'changesSinceDecision'>;
  readonly clock: Clock;
  readonly agentVersion: string;
  readonly osUser: string;
  runtime(): AgentRuntime;
  /** The front window now, for the consent dialog's concrete example; undefined when unseen. */
  frontWindow(): Promise<FrontWindow | undefined>;
  /** Milliseconds since the last input, for the idle scope's example. */
  idleMs(): Promise<number | undefined>;
  /** Asks the server to erase the person's data there; absent when the shell cannot reach one. */
  requestErasure?: () => Promise<{ requestedAt: string }>;
  /** "Who viewed my data", from the server's audit log; absent when the shell cannot reach one. */
  viewers?: () => Promise<ViewerEntry[]>;
  /** The employee notice in force and the person's acknowledgment of it; absent when the shell cannot reach a server. */
  notice?: { fetch(): Promise<EmployeeNotice>; acknowledge(version: number, hash: string): Promise<NoticeAcknowledgment> };
  /** Who this computer records for (the server decides); absent when the shell cannot reach one. */
  binding?: { known(): DeviceBinding | undefined; refresh(): Promise<DeviceBinding>; pair(code: string): Promise<DeviceBinding> };
  /** Imports of past history under their own consent; absent when the shell cannot reach a server. */
  imports?: Pick<HistoryImports, 'grant' | 'withdraw' | 'refresh' | 'known'>;
  /** The system's file dialog for an ActivityWatch export (null: closed without a choice); absent where the shell has none (a browser). */
  chooseImportFile?: () => Promise<string | null>;
  /** The shell is told so it can update the tray at once (pause, resume, decisions). */
  onChange?: () => void;
}

/** One audit entry in the screen's words: who (name and role), when, and what they did. */
export function viewerEntry(v: DataView): ViewerEntry {
  return { at: v.at, actor: v.actor.name, role: v.actor.role, what: describeAction(v.action) };
}

/** The core's running Agent seen as the screens' port (what the tray app and `run` both hold). */
export function portOfAgent(
  agent: Pick<Agent, 'store' | 'consent' | 'collector' | 'syncer' | 'sources' | 'rights' | 'binding' | 'imports'>,
  options: { clock: Clock; osUser: string; agentVersion: string; onChange?: () => void },
): AgentPort {
  return {
    store: agent.store,
    consent: agent.consent,
    clock: options.clock,
    agentVersion: options.agentVersion,
    osUser: options.osUser,
    runtime: () => ({
      captureSources: agent.collector.sourceStatus(),
      lastSyncMs: agent.syncer.lastSuccessMs,
      lastSyncError: agent.syncer.lastError,
    }),
    frontWindow: () => agent.sources.window.frontWindow(),
    idleMs: () => agent.sources.idle.idleMs(),
    viewers: async () => (await agent.rights.viewers()).map(viewerEntry),
    binding: agent.binding,
    imports: agent.imports,
    notice: { fetch: () => agent.consent.fetchNotice(), acknowledge: (version, hash) => agent.consent.acknowledgeNotice(version, hash) },
    // The screen asks for the server's copy only; what this device holds the person sees and
    // deletes themselves on the same screen (forget), so it is not wiped behind their back.
    requestErasure: async () => ({ requestedAt: (await agent.rights.requestErasure(false)).requestedAt }),
    ...(options.onChange && { onChange: options.onChange }),
  };
}
