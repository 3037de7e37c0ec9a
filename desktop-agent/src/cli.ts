/**
 * icarus-agent: the headless agent (Linux servers, VDI, tests). Same core as the tray app.
 * Config precedence: managed file > flags > ICARUS_* env > user file.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { systemClock } from './core/clock';
import { announceScreens, type ScreensAnnouncement } from './ui/announce';
import { serveAgentUi } from './ui/serve-agent';
import type { UiServer } from './ui/server';
import { ALL_SCOPES, Scope } from '@icarus/shared';
import { Agent, AGENT_VERSION, defaultSources, ensureEnrolled } from './core/agent';
import { ConfigError, resolveConfig, type AgentConfig } from './core/config';
import { redactionProblems } from './core/capture/title';
import { describeGate, effectiveScopes } from './core/consent/gate';
import { AgentStore } from './core/store/store';
import { StoreError } from './core/store/db';
import { HttpError, NetworkError } from './core/sync/http';
import { askNotice, askScopes, printNotice, printPolicy, printPolicyDiff, printReceipt, type Write } from './cli/consent-prompt';
import { exportSpans, printMyData } from './cli/my-data';
import { confirmImport, exportActivityWatchFormat, printGrant, printGrants, printImportPlan, printWithdrawal } from './cli/activitywatch';
import { HistoryImports, planActivityWatchImport } from './core/consent/imports';
import { ConsentService } from './core/consent/service';
import { readFileSync } from 'node:fs';
import { ActivityWatchFormatError } from './core/interop/activitywatch';
import { printErasures, printViewers, requestErasure } from './cli/rights';
import { arch, platform } from 'node:process';
import { checkUpdate } from './cli/update';
import { installStagedUpdates } from './update/install';
import { describeOutcome, startUpdateSchedule, UPDATE_SPOOL } from './update/schedule';
import { defaultManagedConfigFile } from './core/store/paths';
import { UpdateRefused } from './update/manifest';
import { TokenSource } from './core/sync/auth';
import { BindingClient, describeBinding } from './core/sync/binding';
import { RightsClient } from './core/sync/rights';

const USAGE = `usage: icarus-agent <command> [options]
  enroll --server URL --token T [--name NAME]   register this device with the cloud
  run [--ui]                                   capture and sync in the foreground (Ctrl-C stops)
  ui [--ui-dir DIR]                            run, and serve the screens (status, consent, my data) on 127.0.0.1
  status                                       what the agent is doing, who it records for, and why
  pair <code>                                  bind this computer to you with a code from the web app (My data → Pair a computer)
  consent                                      read the policy and the monitoring notice, acknowledge it, and decide per scope
  notice                                       the monitoring notice of the policy in force; acknowledge it if you have not
  withdraw [scope...]                          withdraw consent (all scopes when none named)
  pause 30m|1h|<n>m|resume                     stop capturing for a while
  my-data                                      today's spans, per-app totals, what is unsent
  export --format json|csv|activitywatch       every span on this device (activitywatch: the buckets JSON aw-server imports)
  import-activitywatch <file> [--scopes a,b] [--yes]
                                               your ActivityWatch export (Settings → Export all buckets): shows what it uploads,
                                               then asks your consent for that past period (default scopes: the ones you granted)
  imports                                      your imports of past history and their consents
  withdraw-import <id>                         withdraw an import's consent: its history is erased on the server and here
  forget <span id|app>                         delete unsent spans before they leave
  viewers                                      who (manager, admin, auditor) viewed your data on the server
  erase [--local]                              ask the server to erase your data (--local: this device's too)
  erasures                                     your erasure requests and their state
  update --check                               verify the signed update manifest (and package) from the feed; installs nothing
  install-update [--spool DIR] [--verify-only] (root, the package's installer) verify staged updates again and dpkg -i them
options: --data-dir DIR  --sample-interval-ms N  --sync-interval-ms N  --heartbeat-interval-ms N
         --capture-backend auto|x11|get-windows  --update-url URL  --update-keys JSON`;

/** The process that started this one, read first thing: the wrapper may go away during start-up. */
const STARTED_BY = process.ppid;

const out: Write = (text) => void process.stdout.write(text);
const stamp = (line: string) => out(`${new Date().toISOString()} ${line}\n`);

function flagsLayer(values: Record<string, string | boolean | undefined>): Record<string, string> {
  const layer: Record<string, string> = {};
  const map: Record<string, string> = {
    server: 'server',
    token: 'enrollmentToken',
    name: 'deviceName',
    'data-dir': 'dataDir',
    'sample-interval-ms': 'sampleIntervalMs',
    'sync-interval-ms': 'syncIntervalMs',
    'heartbeat-interval-ms': 'heartbeatIntervalMs',
    'capture-backend': 'captureBackend',
    'update-url': 'updateUrl',
    'update-keys': 'updateKeys',
  };
  for (const [flag, key] of Object.entries(map)) {
    const value = values[flag];
    if (typeof value === 'string') layer[key] = value;
  }
  return layer;
}

async function withStore<T>(config: AgentConfig, fn: (store: AgentStore) => Promise<T> | T): Promise<T> {
  const store = AgentStore.open(config.dataDir);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

function parseScope(value: string, field: string): Scope {
  const parsed = Scope.safeParse(value);
  if (!parsed.success) throw new ConfigError(`${field}: "${value}" is not a scope (${ALL_SCOPES.join(', ')})`);
  return parsed.data;
}

function parsePause(arg: string | undefined): number | 'resume' {
  if (arg === 'resume') return 'resume';
  const m = /^(\d+)(m|h)$/.exec(arg ?? '');
  if (!m) throw new ConfigError('pause takes 30m, 1h, <n>m, <n>h or resume');
  const ms = Number(m[1]) * (m[2] === 'h' ? 3_600_000 : 60_000);
  if (ms <= 0 || ms > 7 * 86_400_000) throw new ConfigError('pause lasts between 1 minute and 7 days');
  return ms;
}

/**
 * The screens built for the package sit next to the bundled agent (/usr/lib/icarus-nova/ui for
 * the .deb); from source, serveAgentUi builds them once instead.
 */
function prebuiltUiDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'ui');
}

async function startUi(agent: Agent, dir: string): Promise<UiServer> {
  try {
    return await serveAgentUi(agent, systemClock, dir);
  } catch (error) {
    // A bundled agent cannot compile the pages (their sources are not next to it): say where it looked.
    throw new ConfigError(
      `no built screens in ${dir} and they cannot be built here (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); pass --ui-dir DIR`,
    );
  }
}

async function run(config: AgentConfig, ui: { dir: string } | undefined): Promise<void> {
  const store = AgentStore.open(config.dataDir);
  const device = await ensureEnrolled(store, config);
  const agent = new Agent(store, device, config, defaultSources(config.captureBackend), undefined, stamp);
  stamp(`icarus-agent running as device ${device.deviceId}, data in ${store.file}`);
  // Listening before start: a SIGTERM that lands while the agent starts up still stops it cleanly.
  const stopRequested = new Promise<void>((resolve) => {
    let orphanWatch: NodeJS.Timeout | undefined;
    const stop = (signal: string) => {
      clearInterval(orphanWatch);
      stamp(`${signal}: closing the open span and flushing`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    orphanWatch = watchWrapper(() => stop('the npm wrapper that started the agent exited'));
  });
  await agent.start();
  const updates = startUpdates(config, store);
  // The address carries the session token (in the fragment): printed only to a terminal; under
  // systemd or a redirect it goes to a 0600 file in the data folder instead (see announceScreens).
  let screens: UiServer | undefined;
  let announced: ScreensAnnouncement | undefined;
  if (ui) {
    try {
      screens = await startUi(agent, ui.dir);
      announced = announceScreens(screens.pageUrl('status'), { isTTY: process.stdout.isTTY === true, dataDir: store.dataDir });
    } catch (error) {
      await screens?.close();
      await agent.stop();
      store.close();
      throw error;
    }
    stamp(announced.line);
  }
  await stopRequested;
  updates?.stop();
  await screens?.close();
  announced?.cleanup();
  await agent.stop();
  store.close();
  stamp('stopped');
}

/** The scheduled update check, when IT configured a feed and its keys (managed config). */
function startUpdates(config: AgentConfig, store: AgentStore) {
  if (!config.updateUrl || Object.keys(config.updateKeys).length === 0) return undefined;
  stamp(`update checks every ${Math.round(config.updateIntervalMs / 1000)} s from ${config.updateUrl} (${config.updateChannel} channel, ${config.updateMode})`);
  return startUpdateSchedule({
    feedUrl: config.updateUrl,
    trusted: config.updateKeys,
    running: { version: AGENT_VERSION, platform, arch, kind: platform === 'linux' ? 'deb' : 'tar.gz', channel: config.updateChannel },
    mode: config.updateMode,
    intervalMs: config.updateIntervalMs,
    firstCheckMs: Math.min(60_000, config.updateIntervalMs),
    ...(process.env.ICARUS_UPDATE_SPOOL ? { spoolDir: process.env.ICARUS_UPDATE_SPOOL } : {}),
    log: stamp,
    onOutcome: (outcome, atMs) => store.state.set('lastUpdateCheck', { atMs, kind: outcome.kind, said: describeOutcome(outcome) }),
  });
}

/**
 * Under `npm run agent` or `npx icarus-agent`, npm passes a SIGTERM on to the shell it started,
 * and that shell dies without passing it on: the agent would be left running, orphaned. So when
 * npm started us, losing our parent means the same as SIGTERM. (systemd and terminals start the
 * agent directly and signal it directly; this is for npm only.)
 */
function watchWrapper(onGone: () => void): NodeJS.Timeout | undefined {
  if (process.env.npm_lifecycle_event === undefined && process.env.npm_command === undefined) return undefined;
  const timer = setInterval(() => {
    if (process.ppid !== STARTED_BY) onGone();
  }, 250);
  timer.unref();
  return timer;
}

/** The person's rights on the server, asked by this device (it must be enrolled). */
function rightsOf(store: AgentStore): RightsClient {
  const device = store.state.device();
  if (!device) throw new ConfigError('this device is not enrolled: run `icarus-agent enroll --server URL --token T`');
  if (store.state.get('revoked'))
    throw new ConfigError('this device was revoked by your organisation, so the server no longer answers it; use the web app or ask IT');
  return new RightsClient(new TokenSource(device));
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      name: { type: 'string' },
      'data-dir': { type: 'string' },
      format: { type: 'string' },
      'sample-interval-ms': { type: 'string' },
      'sync-interval-ms': { type: 'string' },
      'heartbeat-interval-ms': { type: 'string' },
      'capture-backend': { type: 'string' },
      'update-url': { type: 'string' },
      'update-keys': { type: 'string' },
      check: { type: 'boolean' },
      spool: { type: 'string' },
      'verify-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      local: { type: 'boolean' },
      ui: { type: 'boolean' },
      'ui-dir': { type: 'string' },
      scopes: { type: 'string' },
      yes: { type: 'boolean' },
    },
  });
  const [command, ...rest] = positionals;
  if (!command || values.help) {
    out(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const config = resolveConfig(flagsLayer(values));
  switch (command) {
    case 'enroll':
      return withStore(config, async (store) => {
        const existing = store.state.device();
        if (existing) throw new ConfigError(`already enrolled as device ${existing.deviceId} with ${existing.serverUrl}`);
        if (!config.server || !config.enrollmentToken) throw new ConfigError('enroll needs --server URL and --token T');
        const device = await ensureEnrolled(store, config);
        out(`enrolled: device ${device.deviceId} in org ${device.orgId} (${device.serverUrl})\n`);
        const agent = new Agent(store, device, config, defaultSources(config.captureBackend));
        const policy = await agent.consent.fetchPolicy().catch(() => undefined);
        out(policy ? `policy v${policy.version} received.\n` : 'policy not fetched yet; run icarus-agent consent when online\n');
        const binding = await agent.binding.refresh().catch(() => undefined);
        out(`${describeBinding(binding)}\n`);
        out(binding?.boundTo ? 'Next: icarus-agent consent\n' : 'Next: icarus-agent pair <code>, then icarus-agent consent\n');
        return 0;
      });
    case 'run':
    case 'ui':
      await run(config, command === 'ui' || values.ui === true ? { dir: values['ui-dir'] ?? prebuiltUiDir() } : undefined);
      return 0;
    case 'status':
      return withStore(config, (store) => {
        const device = store.state.device();
        const revoked = store.state.get('revoked');
        const gate = {
          consent: store.state.get('consent'),
          policy: store.state.get('policy'),
          pauseUntilMs: store.state.get('pauseUntilMs'),
          revoked,
          now: Date.now(),
        };
        out(`device: ${device ? `${device.deviceId} (${device.serverUrl})` : 'not enrolled'}${revoked ? ' REVOKED' : ''}\ndata: ${store.file}\n`);
        if (revoked) {
          out(`revoked: your organisation revoked this device on ${new Date(revoked.atMs).toISOString()} (the server said: ${revoked.serverSaid})\n`);
          out('  syncing and capture have stopped; the data on this device is kept (my-data, export); ask IT if this is a mistake\n');
        }
        if (device) out(`${describeBinding(store.state.get('binding'))}\n`);
        out(`policy: ${gate.policy ? `v${gate.policy.version} (${gate.policy.content.titleMode} titles)` : 'none yet'}\n`);
        for (const problem of gate.policy ? redactionProblems(gate.policy.content) : []) out(`  ${problem}\n`);
        out(`capture: ${store.state.get('binding')?.boundTo === null ? 'nothing: this computer is bound to nobody yet' : describeGate(gate)}\n`);
        out(`unsent spans: ${store.spans.pendingCount()}, dropped: ${store.spans.droppedCount()}\n`);
        const lastUpdate = store.state.get('lastUpdateCheck');
        if (lastUpdate) out(`last ${lastUpdate.said} (${new Date(lastUpdate.atMs).toISOString()})\n`);
        const runtime = store.state.get('runtime');
        if (runtime) {
          out(`agent process ${runtime.pid}, last report ${new Date(runtime.updatedMs).toISOString()}\n`);
          for (const s of runtime.sources) out(`  source ${s.name}: ${s.ok ? 'ok' : (s.problem ?? 'failing')}\n`);
          out(
            `  last sync: ${runtime.lastSyncMs ? new Date(runtime.lastSyncMs).toISOString() : 'never'}${runtime.lastSyncError ? `; last error: ${runtime.lastSyncError}` : ''}\n`,
          );
        }
        for (const m of store.state.get('messages') ?? []) out(`message from your organisation: ${m.text}\n`);
        return 0;
      });
    case 'pair':
      return withStore(config, async (store) => {
        const code = rest.join('');
        if (!code) throw new ConfigError('pair takes the code the web app shows under My data → Pair a computer, e.g. icarus-agent pair ABCD-EFGH');
        const device = store.state.device();
        if (!device) throw new ConfigError('this device is not enrolled: run `icarus-agent enroll --server URL --token T`');
        const binding = await new BindingClient(store, new TokenSource(device)).pair(code);
        out(`paired. ${describeBinding(binding)}\nNext: icarus-agent consent\n`);
        return 0;
      });
    case 'consent':
    case 'withdraw':
      return withStore(config, async (store) => {
        const device = store.state.device();
        if (!device) throw new ConfigError('this device is not enrolled: run `icarus-agent enroll --server URL --token T`');
        const sources = defaultSources(config.captureBackend);
        const agent = new Agent(store, device, config, sources);
        // Consent is a person's: say whose before asking, and ask no one on an unbound computer.
        const binding = await agent.binding.refresh();
        out(`${describeBinding(binding)}\n\n`);
        if (!binding.boundTo) {
          sources.window.close();
          return 1;
        }
        if (command === 'withdraw') {
          const scopes = rest.map((s) => Scope.parse(s));
          if (!store.state.get('policy')) await agent.consent.fetchPolicy();
          printReceipt(await agent.consent.decide('withdrawn', scopes, 'terminal'), out);
          return 0;
        }
        const policy = await agent.consent.fetchPolicy();
        printPolicy(policy, out);
        try {
          const diff = await agent.consent.changesSinceDecision();
          if (diff) printPolicyDiff(diff, out);
        } catch (error) {
          // The full policy above is what the person decides on; the comparison only helps.
          out(`(cannot show what changed since your last decision: ${error instanceof Error ? error.message : String(error)})\n\n`);
        }
        // The employee notice of this version, before the decision; a server without it is said so.
        const notice = await agent.consent.fetchNotice().catch((error: unknown) => {
          out(`(cannot show the monitoring notice: ${error instanceof Error ? error.message : String(error)})\n\n`);
          return undefined;
        });
        if (notice) printNotice(notice, out);
        // Shown here only, to make the examples concrete; nothing is stored before the decision.
        const front = await sources.window.frontWindow().catch(() => undefined);
        sources.window.close();
        const answers = await askScopes(policy, front, out, process.stdin, notice);
        if (!answers) {
          out('\ninput ended before every scope was answered: nothing was decided\n');
          return 1;
        }
        const { granted } = answers;
        if (notice && answers.noticeAcknowledged) {
          const done = await agent.consent.acknowledgeNotice(notice.version, notice.hash);
          out(`notice of policy v${done.version} acknowledged at ${done.acknowledgedAt}\n`);
        } else if (notice && !notice.acknowledgedAt) out('notice not acknowledged; `icarus-agent notice` asks again\n');
        const outcome = await agent.consent.decide(granted.length > 0 ? 'granted' : 'declined', granted, 'terminal');
        printReceipt(outcome, out);
        const now = effectiveScopes({ consent: store.state.get('consent'), policy, pauseUntilMs: store.state.get('pauseUntilMs'), now: Date.now() });
        out(`capture from now on: ${[...now].join(', ') || 'nothing'} (of ${ALL_SCOPES.join(', ')})\n`);
        return 0;
      });
    case 'notice':
      return withStore(config, async (store) => {
        const device = store.state.device();
        if (!device) throw new ConfigError('this device is not enrolled: run `icarus-agent enroll --server URL --token T`');
        const sources = defaultSources(config.captureBackend);
        sources.window.close();
        const agent = new Agent(store, device, config, sources);
        const binding = await agent.binding.refresh();
        if (!binding.boundTo) {
          out(`${describeBinding(binding)}\n`);
          return 1;
        }
        const notice = await agent.consent.fetchNotice();
        printNotice(notice, out);
        if (notice.acknowledgedAt) return 0;
        const yes = await askNotice(out);
        if (yes === undefined) {
          out('\ninput ended before the question was answered: nothing was recorded\n');
          return 1;
        }
        if (!yes) {
          out('not acknowledged; `icarus-agent notice` asks again\n');
          return 0;
        }
        const done = await agent.consent.acknowledgeNotice(notice.version, notice.hash);
        out(`notice of policy v${done.version} acknowledged at ${done.acknowledgedAt}\n`);
        return 0;
      });
    case 'pause':
      return withStore(config, (store) => {
        const p = parsePause(rest[0]);
        if (p === 'resume') {
          store.state.delete('pauseUntilMs');
          out('resumed\n');
        } else {
          store.state.set('pauseUntilMs', Date.now() + p);
          out(`paused until ${new Date(Date.now() + p).toLocaleTimeString()}\n`);
        }
        return 0;
      });
    case 'my-data':
      return withStore(config, (store) => (printMyData(store, Date.now(), out), 0));
    case 'export': {
      const format = values.format ?? 'json';
      if (format === 'activitywatch') return withStore(config, (store) => (exportActivityWatchFormat(store, Date.now(), out), 0));
      if (format !== 'json' && format !== 'csv') throw new ConfigError('--format is json, csv or activitywatch');
      return withStore(config, (store) => (exportSpans(store, format, out), 0));
    }
    case 'import-activitywatch': {
      const file = rest[0];
      if (!file) throw new ConfigError('import-activitywatch takes the file ActivityWatch exported (GET /api/0/export, or Settings → Export all buckets)');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new ConfigError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const scopes = values.scopes === undefined ? undefined : values.scopes.split(',').map((s, i) => parseScope(s.trim(), `--scopes ${i + 1}`));
      return withStore(config, async (store) => {
        const device = store.state.device();
        if (!device) throw new ConfigError('this device is not enrolled: run `icarus-agent enroll --server URL --token T`');
        const tokens = new TokenSource(device);
        // Whose history this becomes, and under which policy, as the server says now.
        const binding = await new BindingClient(store, tokens).refresh();
        out(`${describeBinding(binding)}\n`);
        await new ConsentService(store, tokens, systemClock, AGENT_VERSION).fetchPolicy();
        const plan = planActivityWatchImport(store, text, Date.now(), scopes);
        printImportPlan(plan, device.serverUrl, out);
        if (plan.preview.spans === 0) {
          out('nothing imported; no consent was asked\n');
          return 0;
        }
        if (values.yes !== true && !(await confirmImport(out))) {
          out('nothing imported; no consent was recorded\n');
          return 1;
        }
        printGrant(await new HistoryImports(store, tokens, systemClock, AGENT_VERSION).grant(plan, 'terminal'), out);
        return 0;
      });
    }
    case 'imports':
      return withStore(config, async (store) => {
        const device = store.state.device();
        if (!device) throw new ConfigError('this device is not enrolled: run `icarus-agent enroll --server URL --token T`');
        const imports = new HistoryImports(store, new TokenSource(device), systemClock, AGENT_VERSION);
        const grants = await imports.refresh().catch((error: unknown) => {
          out(`(the server could not be asked: ${error instanceof Error ? error.message : String(error)}; as last seen)\n`);
          return imports.known();
        });
        printGrants(grants, out);
        return 0;
      });
    case 'withdraw-import':
      return withStore(config, async (store) => {
        const id = rest[0];
        if (!id) throw new ConfigError('withdraw-import takes the id `icarus-agent imports` lists');
        const device = store.state.device();
        if (!device) throw new ConfigError('this device is not enrolled: run `icarus-agent enroll --server URL --token T`');
        printWithdrawal(await new HistoryImports(store, new TokenSource(device), systemClock, AGENT_VERSION).withdraw(id), out);
        return 0;
      });
    case 'forget': {
      const target = rest[0];
      if (!target) throw new ConfigError('forget takes a span id or an app name');
      return withStore(config, (store) => {
        out(`forgot ${store.spans.forget(target)} unsent spans matching ${JSON.stringify(target)}\n`);
        return 0;
      });
    }
    case 'viewers':
      return withStore(config, async (store) => (printViewers(await rightsOf(store).viewers(), out), 0));
    case 'erase':
      return withStore(config, (store) => requestErasure(rightsOf(store), store, values.local === true, out));
    case 'erasures':
      return withStore(config, async (store) => (printErasures(await rightsOf(store).erasures(), out), 0));
    case 'update':
      if (values.check !== true) throw new ConfigError('update takes --check (the agent verifies; your package manager installs)');
      return checkUpdate(config, out);
    case 'install-update':
      if (values['verify-only'] !== true && process.getuid?.() !== 0)
        throw new ConfigError('install-update installs packages: run it as root (or with --verify-only)');
      return installStagedUpdates({
        spoolDir: values.spool ?? UPDATE_SPOOL,
        managedFile: defaultManagedConfigFile(),
        installed: { version: AGENT_VERSION, platform, arch, kind: 'deb' },
        verifyOnly: values['verify-only'] === true,
        write: out,
      });
    default:
      out(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known =
      error instanceof StoreError ||
      error instanceof ConfigError ||
      error instanceof HttpError ||
      error instanceof NetworkError ||
      error instanceof UpdateRefused ||
      error instanceof ActivityWatchFormatError;
    process.stderr.write(
      `icarus-agent: ${known || !(error instanceof Error) ? String(error instanceof Error ? error.message : error) : (error.stack ?? error.message)}\n`,
    );
    process.exit(error instanceof StoreError ? 3 : 1);
  },
);
