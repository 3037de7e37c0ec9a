import { HistoryImports } from './consent/imports';
import { hostname, userInfo } from 'node:os';
import { Platform, type AgentStatus, type Policy, type Scope } from '@icarus/shared';
import { systemClock, type Clock } from './clock';
import { Collector, keepGranted } from './capture/collector';
import { redactionProblems } from './capture/title';
import { SpanMerger, type MergerConfig } from './capture/merger';
import { GetWindowsSource, XprintidleSource, noIdleSource } from './capture/os-sources';
import type { IdleSource, WindowSource } from './capture/sources';
import { X11Capture } from './capture/x11-source';
import type { AgentConfig } from './config';
import { describeGate, effectiveScopes, type GateInput } from './consent/gate';
import { ConsentService } from './consent/service';
import { DataFolderLock } from './store/lock';
import { AgentStore } from './store/store';
import type { DeviceKeyVault } from './store/identity';
import type { DeviceIdentity } from './store/state';
import { TokenSource, enroll } from './sync/auth';
import { BindingClient } from './sync/binding';
import { RightsClient } from './sync/rights';
import { SyncLoop, Syncer } from './sync/sync';

export const AGENT_VERSION = '0.1.0';
const HOUR_MS = 3_600_000;

export interface CaptureSources {
  window: WindowSource;
  idle: IdleSource;
}

/** The OS sources for this platform and backend choice. */
export function defaultSources(backend: AgentConfig['captureBackend']): CaptureSources {
  if (process.platform === 'linux' && backend !== 'get-windows') {
    const x11 = new X11Capture();
    return { window: x11.window, idle: x11.idle };
  }
  if (process.platform === 'linux') return { window: new GetWindowsSource(), idle: new XprintidleSource() };
  return { window: new GetWindowsSource(), idle: noIdleSource };
}

export function mergerConfig(policy: Policy | undefined, intervalMs: number): Omit<MergerConfig, 'newId'> {
  return {
    intervalMs,
    idleThresholdMs: (policy?.content.idleThresholdSeconds ?? 300) * 1000,
    title: { titleMode: policy?.content.titleMode ?? 'hashed', redactionRules: policy?.content.redactionRules ?? [] },
  };
}

/**
 * Enrolls this device unless it already is. The private key goes to `keyVault` when given (the
 * tray app's keychain-sealed store), else to a 0600 file next to the database.
 */
export async function ensureEnrolled(store: AgentStore, config: AgentConfig, token?: string, keyVault?: DeviceKeyVault): Promise<DeviceIdentity> {
  const existing = store.state.device();
  if (existing) return existing;
  const enrollmentToken = token ?? config.enrollmentToken;
  if (!config.server || !enrollmentToken) {
    throw new Error('this device is not enrolled: run `icarus-agent enroll --server URL --token T`');
  }
  const device = await enroll({
    serverUrl: config.server,
    enrollmentToken,
    deviceName: config.deviceName || hostname(),
    osUser: userInfo().username,
    platform: Platform.parse(process.platform),
    agentVersion: AGENT_VERSION,
    keyFile: store.keyFile,
    ...(keyVault && { keyVault }),
  });
  store.state.setDevice(device);
  return device;
}

/** The running headless agent: capture, consent gate, store and sync wired together. */
export class Agent {
  readonly consent: ConsentService;
  readonly collector: Collector;
  readonly syncer: Syncer;
  /** The person's data rights on the server: who viewed, export, erasure. */
  readonly rights: RightsClient;
  /** Who this device speaks for, as the server says; consent is asked only once it is someone. */
  readonly binding: BindingClient;
  /** History brought in from ActivityWatch, each import under its own consent for its past period. */
  readonly imports: HistoryImports;
  private readonly loop: SyncLoop;
  private readonly merger: SpanMerger;
  private gate: Omit<GateInput, 'now'>;
  private seenDataVersion = -1;
  private policyVersion: number | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastScopes = '';
  /** The server said this device is bound to no one: nothing is captured for anyone. */
  private unbound = false;
  private stopped = false;
  private lock: DataFolderLock | undefined;

  constructor(
    readonly store: AgentStore,
    readonly device: DeviceIdentity,
    private readonly config: AgentConfig,
    readonly sources: CaptureSources,
    private readonly clock: Clock = systemClock,
    private readonly log: (line: string) => void = () => {},
    /** Where the private key is kept; the key file named in the device record by default. */
    keyVault?: DeviceKeyVault,
  ) {
    const tokens = new TokenSource(device, clock, keyVault);
    this.consent = new ConsentService(store, tokens, clock, AGENT_VERSION);
    this.rights = new RightsClient(tokens);
    this.binding = new BindingClient(store, tokens);
    this.imports = new HistoryImports(store, tokens, clock, AGENT_VERSION);
    this.gate = { consent: undefined, policy: undefined, pauseUntilMs: undefined, revoked: undefined };
    this.reloadIfChanged();
    this.merger = new SpanMerger(mergerConfig(this.gate.policy, config.sampleIntervalMs));
    this.collector = new Collector({
      ...sources,
      merger: this.merger,
      clock,
      intervalMs: config.sampleIntervalMs,
      scopes: () => this.scopesNow(),
      onSpans: (spans) => {
        const granted = new Set(this.gate.consent?.granted ?? []);
        const kept = spans.map((s) => keepGranted(s, granted)).filter((s) => s !== undefined);
        store.spans.insert(kept, clock.now());
      },
    });
    this.syncer = new Syncer({
      spans: store.spans,
      tokens,
      deviceId: device.deviceId,
      clock,
      holdMs: () => (this.gate.policy?.content.reviewBeforeSendMinutes ?? 0) * 60_000,
      status: () => this.agentStatus(),
      heartbeatMs: config.heartbeatIntervalMs,
      onDirectives: async (directives) => {
        for (const note of await this.consent.applyDirectives(directives)) this.log(note);
        this.reloadIfChanged(true);
      },
    });
    // Passes come often enough for both the span interval and the heartbeat to be kept.
    this.loop = new SyncLoop(this.syncer, Math.min(config.syncIntervalMs, config.heartbeatIntervalMs), (report) => {
      if (this.stopped) return; // a flush that outlived stop(): the store may be closed by now
      if (report.revoked) this.becomeRevoked(report.error ?? 'revoked');
      else if (report.error) this.log(`sync: ${report.error}; next try in ${Math.round((report.retryInMs ?? 0) / 1000)} s`);
      else if (report.sent > 0) this.log(`sync: sent ${report.sent} spans in ${report.batches} batches (${report.rejected} rejected)`);
      this.writeRuntime();
    });
  }

  /** Picks up what other icarus-agent commands (consent, pause, forget) committed meanwhile. */
  private reloadIfChanged(force = false): void {
    // data_version moves only on other connections' commits, so our own writes pass `force`.
    const version = this.store.dataVersion();
    if (version === this.seenDataVersion && !force) return;
    this.seenDataVersion = version;
    const state = this.store.state;
    this.gate = { consent: state.get('consent'), policy: state.get('policy'), pauseUntilMs: state.get('pauseUntilMs'), revoked: state.get('revoked') };
    this.unbound = state.get('binding')?.boundTo === null;
    const policy = this.gate.policy;
    if (policy && policy.version !== this.policyVersion) {
      for (const problem of redactionProblems(policy.content)) this.log(`policy v${policy.version}: ${problem}`);
      if (this.policyVersion !== undefined) {
        this.collector.closeOpenSpan();
        this.merger.reconfigure(mergerConfig(policy, this.config.sampleIntervalMs));
      }
      this.policyVersion = policy.version;
    }
  }

  scopesNow(): Set<Scope> {
    this.reloadIfChanged();
    const scopes = this.unbound ? new Set<Scope>() : effectiveScopes({ ...this.gate, now: this.clock.now() });
    const key = [...scopes].sort().join(',');
    if (key !== this.lastScopes) {
      this.lastScopes = key;
      this.log(describeGate({ ...this.gate, now: this.clock.now() }));
    }
    return scopes;
  }

  agentStatus(): AgentStatus {
    return {
      agentVersion: AGENT_VERSION,
      pendingSpans: this.store.spans.pendingCount(),
      droppedSpans: this.store.spans.droppedCount(),
      captureSources: this.collector.sourceStatus(),
    };
  }

  /** True once the organisation revoked this device. */
  get revoked(): boolean {
    return this.gate.revoked !== undefined;
  }

  /**
   * The server said this device is revoked: remember it (so `status`, the tray and the next
   * start know), stop syncing and capturing, keep every span, and tell the person why.
   */
  private becomeRevoked(serverSaid: string): void {
    if (!this.store.state.get('revoked')) this.store.state.set('revoked', { atMs: this.clock.now(), serverSaid: serverSaid.slice(0, 500) });
    this.reloadIfChanged(true);
    this.loop.stop();
    this.collector.closeOpenSpan();
    this.log(this.revokedNotice());
  }

  private revokedNotice(): string {
    const kept = this.store.spans.pendingCount();
    return `this device was revoked by your organisation: syncing and capture have stopped; the ${kept} unsent spans stay on this device (see them with \`icarus-agent my-data\` or \`export\`); ask IT if this is a mistake`;
  }

  private enforceRetention(): void {
    const days = this.gate.policy?.content.localRetentionDays ?? 30;
    const dropped = this.store.spans.enforceRetention(this.clock.now(), days);
    if (dropped > 0) this.log(`dropped ${dropped} unsent spans older than ${days} days (reported to the server)`);
  }

  private writeRuntime(): void {
    this.store.state.set('runtime', {
      pid: process.pid,
      updatedMs: this.clock.now(),
      sources: this.collector.sourceStatus(),
      ...(this.syncer.lastSuccessMs !== undefined && { lastSyncMs: this.syncer.lastSuccessMs }),
      ...(this.syncer.lastError !== undefined && { lastSyncError: this.syncer.lastError.slice(0, 500) }),
    });
  }

  private async refreshPolicy(): Promise<void> {
    if (this.revoked) return; // the server refuses a revoked device; asking would only fail
    try {
      await this.binding.refresh();
      await this.consent.fetchPolicy();
      this.reloadIfChanged(true);
    } catch (error) {
      this.log(`policy: cannot refresh now (${error instanceof Error ? error.message : String(error)}); using the stored one`);
    }
  }

  async start(): Promise<void> {
    // Before anything is captured: a second agent on this folder stops here, naming the first.
    this.lock = DataFolderLock.acquire(this.store.dataDir, this.clock.now());
    this.enforceRetention();
    await this.refreshPolicy();
    this.collector.start();
    if (this.revoked) this.log(this.revokedNotice());
    else this.loop.start();
    const every = (ms: number, fn: () => void | Promise<void>) => {
      const t = setInterval(() => void fn(), ms);
      this.timers.push(t);
    };
    every(HOUR_MS, () => this.enforceRetention());
    every(this.config.policyRefreshMs, () => this.refreshPolicy());
    every(30_000, () => this.writeRuntime());
    this.writeRuntime();
  }

  /** Clean shutdown: close the open span, store it, try one last sync (bounded), close the file. */
  async stop(flushTimeoutMs = 3000): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.loop.stop();
    await this.collector.stop();
    const flushed = this.revoked ? Promise.resolve() : this.loop.runNow().catch(() => undefined);
    await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, flushTimeoutMs).unref())]);
    this.loop.stop();
    this.writeRuntime();
    this.stopped = true;
    this.sources.window.close();
    this.sources.idle.close();
    this.lock?.release();
    this.lock = undefined;
  }
}
