import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { defaultDataDir, defaultManagedConfigFile, defaultUserConfigFile } from './store/paths';

const Fields = {
  server: z.url({ protocol: /^https?$/ }),
  enrollmentToken: z.string().min(16).max(256),
  deviceName: z.string().min(1).max(200),
  dataDir: z.string().min(1),
  sampleIntervalMs: z.coerce.number().int().min(100).max(60_000),
  syncIntervalMs: z.coerce.number().int().min(500).max(3_600_000),
  heartbeatIntervalMs: z.coerce.number().int().min(1000).max(86_400_000),
  policyRefreshMs: z.coerce.number().int().min(1000).max(86_400_000),
  captureBackend: z.enum(['auto', 'x11', 'get-windows']),
};
type Key = keyof typeof Fields;

export const ConfigLayer = z.strictObject({
  server: Fields.server.optional(),
  enrollmentToken: Fields.enrollmentToken.optional(),
  deviceName: Fields.deviceName.optional(),
  dataDir: Fields.dataDir.optional(),
  sampleIntervalMs: Fields.sampleIntervalMs.optional(),
  syncIntervalMs: Fields.syncIntervalMs.optional(),
  heartbeatIntervalMs: Fields.heartbeatIntervalMs.optional(),
  policyRefreshMs: Fields.policyRefreshMs.optional(),
  captureBackend: Fields.captureBackend.optional(),
});
export type ConfigLayer = z.infer<typeof ConfigLayer>;

export interface AgentConfig {
  server: string | undefined;
  enrollmentToken: string | undefined;
  deviceName: string;
  dataDir: string;
  sampleIntervalMs: number;
  syncIntervalMs: number;
  /** With nothing to send, an empty batch goes this often so directives still arrive. */
  heartbeatIntervalMs: number;
  policyRefreshMs: number;
  captureBackend: 'auto' | 'x11' | 'get-windows';
  /** Keys IT fixed in the managed file: the person cannot override them. */
  managedKeys: Key[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ENV: Record<Key, string> = {
  server: 'ICARUS_SERVER',
  enrollmentToken: 'ICARUS_ENROLLMENT_TOKEN',
  deviceName: 'ICARUS_DEVICE_NAME',
  dataDir: 'ICARUS_DATA_DIR',
  sampleIntervalMs: 'ICARUS_SAMPLE_INTERVAL_MS',
  syncIntervalMs: 'ICARUS_SYNC_INTERVAL_MS',
  heartbeatIntervalMs: 'ICARUS_HEARTBEAT_INTERVAL_MS',
  policyRefreshMs: 'ICARUS_POLICY_REFRESH_MS',
  captureBackend: 'ICARUS_CAPTURE_BACKEND',
};

function parseLayer(raw: unknown, where: string, keyName: (key: string) => string = (k) => k): ConfigLayer {
  const parsed = ConfigLayer.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const key = i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.');
    return `${keyName(key)}: ${i.message}`;
  });
  throw new ConfigError(`bad configuration in ${where}: ${problems.join('; ')}`);
}

function readFileLayer(file: string, what: string): ConfigLayer {
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${what} ${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseLayer(raw, `${what} ${file}`);
}

/** Values IT set through the OS's own management (Windows registry policy, macOS profile). */
export interface ManagedLayer {
  layer: ConfigLayer;
  /** Where they came from, for error messages: e.g. "registry HKLM\\SOFTWARE\\Policies\\...". */
  source: string;
}

/**
 * Resolves the agent's configuration. Precedence, highest first: the OS-managed values the shell
 * read (registry policy, macOS managed preferences), the managed file IT deploys
 * (/etc/icarus-nova/agent.json on Linux, ICARUS_MANAGED_CONFIG overrides the path), command-line
 * flags, ICARUS_* environment variables, the user's own file. A bad value names its key and source.
 */
export function resolveConfig(flags: ConfigLayer, env: NodeJS.ProcessEnv = process.env, osManaged?: ManagedLayer): AgentConfig {
  const fromEnv: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const envLayer = parseLayer(fromEnv, 'the environment', (key) => (key in ENV ? ENV[key as Key] : key));
  const user = readFileLayer(env.ICARUS_CONFIG || defaultUserConfigFile(process.platform, env), 'user config');
  const managed = readFileLayer(defaultManagedConfigFile(process.platform, env), 'managed config');
  const flagLayer = parseLayer(flags, 'the command line', (key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  // The OS's policy mechanism is what MDM tools write on Windows and macOS: it wins over a file.
  const platform = osManaged ? { ...managed, ...parseLayer(osManaged.layer, osManaged.source) } : managed;
  const merged: ConfigLayer = { ...user, ...envLayer, ...flagLayer, ...platform };
  return {
    server: merged.server,
    enrollmentToken: merged.enrollmentToken,
    deviceName: merged.deviceName ?? hostname(),
    dataDir: merged.dataDir ?? defaultDataDir(process.platform, env),
    sampleIntervalMs: merged.sampleIntervalMs ?? 1000,
    syncIntervalMs: merged.syncIntervalMs ?? 60_000,
    heartbeatIntervalMs: merged.heartbeatIntervalMs ?? 60_000,
    policyRefreshMs: merged.policyRefreshMs ?? 30 * 60_000,
    captureBackend: merged.captureBackend ?? 'auto',
    managedKeys: Object.keys(platform).filter((k): k is Key => k in Fields),
  };
}
