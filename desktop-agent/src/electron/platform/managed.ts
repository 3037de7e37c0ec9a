import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ConfigLayer, ManagedLayer } from '../../core/config';
import { parsePlist, type PlistValue } from './plist';

/**
 * The policy names IT sets, the same in the ADMX template, the macOS profile and (lower-camel)
 * the Linux JSON file, mapped to the agent's config keys.
 */
export const MANAGED_KEYS = {
  ServerUrl: 'server',
  EnrollmentToken: 'enrollmentToken',
  DeviceName: 'deviceName',
  SyncIntervalMs: 'syncIntervalMs',
} as const satisfies Record<string, keyof ConfigLayer>;

export const WINDOWS_POLICY_KEY = 'HKLM\\SOFTWARE\\Policies\\IcarusNova\\Agent';
export const MACOS_DOMAIN = 'com.icarusnova.agent';
export const MACOS_MANAGED_PLIST = `/Library/Managed Preferences/${MACOS_DOMAIN}.plist`;

export interface ManagedSettings extends ManagedLayer {
  updateFeedUrl: string | undefined;
}

function fromPairs(pairs: Record<string, string | number | undefined>, source: string): ManagedSettings {
  const layer: Record<string, string | number> = {};
  for (const [policy, key] of Object.entries(MANAGED_KEYS)) {
    const v = pairs[policy];
    if (v !== undefined && v !== '') layer[key] = v;
  }
  const feed = pairs.UpdateFeedUrl;
  // The core's resolveConfig validates every value and names the key when one is bad.
  return { layer, source, updateFeedUrl: typeof feed === 'string' && feed !== '' ? feed : undefined };
}

/**
 * Parses `reg query <key>` output: lines of `    Name    REG_SZ    value` (REG_DWORD as 0x..).
 * Pure, so it is tested on sample output on any OS.
 */
export function parseRegQuery(output: string): ManagedSettings {
  const pairs: Record<string, string | number> = {};
  for (const line of output.split(/\r?\n/)) {
    const m = /^\s{2,}(\S+)\s+(REG_SZ|REG_EXPAND_SZ|REG_DWORD)\s+(.*)$/.exec(line);
    if (!m || m[1] === undefined || m[3] === undefined) continue;
    pairs[m[1]] = m[2] === 'REG_DWORD' ? Number.parseInt(m[3], 16) : m[3].trim();
  }
  return fromPairs(pairs, `registry ${WINDOWS_POLICY_KEY}`);
}

/** Reads the macOS managed preferences (as XML plist text) the profile installs. */
export function parseManagedPlist(xml: string): ManagedSettings {
  const root: PlistValue = parsePlist(xml);
  if (typeof root !== 'object' || Array.isArray(root)) throw new Error('managed preferences: expected a <dict>');
  const pairs: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(root)) if (typeof v === 'string' || typeof v === 'number') pairs[k] = v;
  return fromPairs(pairs, `managed preferences ${MACOS_DOMAIN}`);
}

/**
 * The managed values for this OS. Linux needs nothing here: the core reads
 * /etc/icarus-nova/agent.json itself. A missing key or profile means "not managed", not an error.
 */
export function readManagedSettings(platform: NodeJS.Platform): ManagedSettings {
  try {
    if (platform === 'win32') {
      return parseRegQuery(execFileSync('reg', ['query', WINDOWS_POLICY_KEY], { encoding: 'utf8', timeout: 5000 }));
    }
    if (platform === 'darwin' && existsSync(MACOS_MANAGED_PLIST)) {
      // Managed preferences are often binary plists; plutil turns them into XML for parsePlist.
      return parseManagedPlist(execFileSync('plutil', ['-convert', 'xml1', '-o', '-', MACOS_MANAGED_PLIST], { encoding: 'utf8', timeout: 5000 }));
    }
  } catch {
    // `reg query` exits 1 when the key does not exist: the device is simply not managed.
  }
  return { layer: {}, source: 'no OS-managed settings', updateFeedUrl: undefined };
}
