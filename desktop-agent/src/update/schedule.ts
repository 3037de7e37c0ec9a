import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decideUpdate, downloadArtifact, UpdateRefused, verifyManifest, type TrustedKeys, type UpdateManifest, type UpdateArtifact } from './manifest';

/**
 * The running agent's update check on a schedule (managed config: updateUrl, updateKeys,
 * updateIntervalMs, updateChannel, updateMode). Each check fetches the signed manifest,
 * verifies its signature against the trusted keys, refuses another channel or an older version,
 * downloads the package and checks its SHA-256 and size. Then, by updateMode:
 *   notify   says so in the agent's log (the journal under systemd): IT or the person installs it;
 *   install  stages the signed manifest and the package in the spool folder, where the package's
 *            privileged installer (`icarus-agent install-update`, started by a systemd path unit)
 *            verifies both again against the keys in the root-owned managed file, and only then
 *            installs. The agent itself never has the rights to install anything.
 */

/** Where the .deb's installer looks for staged updates (created by its postinst, mode 1733). */
export const UPDATE_SPOOL = '/var/spool/icarus-nova/updates';

export type UpdateOutcome =
  | { kind: 'none'; reason: string }
  | { kind: 'available'; version: string; url: string }
  | { kind: 'staged'; version: string; manifestFile: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'failed'; reason: string };

export interface UpdateScheduleOptions {
  feedUrl: string;
  trusted: TrustedKeys;
  running: { version: string; platform: string; arch: string; kind: UpdateArtifact['kind']; channel: UpdateManifest['channel'] };
  mode: 'notify' | 'install';
  intervalMs: number;
  /** The first check, after start (a minute by default: start-up first, then the network). */
  firstCheckMs?: number;
  spoolDir?: string;
  log: (line: string) => void;
  /** Each check's outcome, for status (the agent keeps the last one). */
  onOutcome?: (outcome: UpdateOutcome, atMs: number) => void;
  fetchImpl?: typeof fetch;
}

/** The spool's file names for one version: the package and, written last, its signed manifest. */
export const spoolFiles = (dir: string, version: string) => ({
  pkg: join(dir, `icarus-nova-agent_${version}.deb`),
  manifest: join(dir, `icarus-nova-agent_${version}.manifest.json`),
});

/** One check: fetch, verify, decide, download and verify the package, then announce or stage it. */
export async function checkOnce(options: UpdateScheduleOptions): Promise<UpdateOutcome> {
  const fetchImpl = options.fetchImpl ?? fetch;
  try {
    const response = await fetchImpl(options.feedUrl, { signal: AbortSignal.timeout(20_000) });
    if (!response.ok) return { kind: 'failed', reason: `update feed ${options.feedUrl} answered ${response.status}` };
    const text = await response.text();
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new UpdateRefused(`update manifest refused: ${options.feedUrl} did not answer JSON`);
    }
    const decision = decideUpdate(verifyManifest(raw, options.trusted), options.running);
    if (!decision.update) return { kind: 'none', reason: decision.reason };
    if (options.mode === 'notify') {
      await downloadArtifact(decision.artifact, fetchImpl);
      return { kind: 'available', version: decision.version, url: decision.artifact.url };
    }
    const dir = options.spoolDir ?? UPDATE_SPOOL;
    const files = spoolFiles(dir, decision.version);
    if (existsSync(files.manifest)) return { kind: 'staged', version: decision.version, manifestFile: files.manifest };
    const bytes = await downloadArtifact(decision.artifact, fetchImpl);
    mkdirSync(dir, { recursive: true });
    // Written under temporary names and renamed: the installer's path unit fires on the
    // manifest, which appears only once the package beside it is complete.
    const suffix = `.${process.pid}.partial`;
    writeFileSync(files.pkg + suffix, bytes, { mode: 0o644 });
    renameSync(files.pkg + suffix, files.pkg);
    writeFileSync(files.manifest + suffix, text, { mode: 0o644 });
    renameSync(files.manifest + suffix, files.manifest);
    return { kind: 'staged', version: decision.version, manifestFile: files.manifest };
  } catch (error) {
    if (error instanceof UpdateRefused) return { kind: 'refused', reason: error.message };
    return { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

/** What each outcome says in the agent's log. */
export function describeOutcome(outcome: UpdateOutcome): string {
  switch (outcome.kind) {
    case 'none':
      return `update check: ${outcome.reason}`;
    case 'available':
      return `update check: ${outcome.version} is available, signed and verified (${outcome.url}); ask IT to install it (this agent only notifies)`;
    case 'staged':
      return `update check: ${outcome.version} verified and staged for the installer (${outcome.manifestFile})`;
    case 'refused':
      return `update check: REFUSED, nothing downloaded or installed: ${outcome.reason}`;
    case 'failed':
      return `update check failed (will try again): ${outcome.reason}`;
  }
}

/** Checks now after firstCheckMs, then every intervalMs; one check at a time. */
export function startUpdateSchedule(options: UpdateScheduleOptions): { stop(): void; checking(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  const tick = () => {
    current = checkOnce(options).then((outcome) => {
      options.log(describeOutcome(outcome));
      options.onOutcome?.(outcome, Date.now());
      if (!stopped) timer = setTimeout(tick, options.intervalMs);
    });
  };
  timer = setTimeout(tick, options.firstCheckMs ?? 60_000);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    checking: () => current,
  };
}
