import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { defaultDataDir, defaultManagedConfigFile, defaultUserConfigFile } from './store/paths';

function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // the schema then says what was expected
  }
}

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
  /** The headless agent's signed update manifest (manifest.json of the release feed). */
  updateUrl: z.url({ protocol: /^https?$/ }),
  /**
   * Release keys trusted for that manifest: key id -> Ed25519 public key (SPKI PEM), given as
   * JSON text (ICARUS_UPDATE_KEYS, --update-keys).
   */
  updateKeys: z.preprocess(
    (value) => (typeof value === 'string' ? jsonOrText(value) : value),
    z
      .record(z.string().min(1).max(64), z.string().startsWith('-----BEGIN PUBLIC KEY-----'))
      .refine((keys) => Object.keys(keys).length > 0, 'name at least one key'),
  ),
  /** How often a running agent checks the feed (the first check comes a minute after start). */
  updateIntervalMs: z.coerce
    .number()
    .int()
    .min(1000)
    .max(7 * 86_400_000),
  /** The release channel this agent follows: a manifest of another channel is refused. */
  updateChannel: z.enum(['stable', 'beta']),
  /** A verified update is only announced (notify), or staged for the package's installer (install). */
  updateMode: z.enum(['notify', 'install']),
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
  updateUrl: Fields.updateUrl.optional(),
  updateKeys: Fields.updateKeys.optional(),
  updateIntervalMs: Fields.updateIntervalMs.optional(),
  updateChannel: Fields.updateChannel.optional(),
  updateMode: Fields.updateMode.optional(),
});
/** What a config file (the user's, the managed one, the OS's policy) may hold. */
export type ConfigLayer = z.infer<typeof ConfigLayer>;

/**
 * Flags and the environment take the same keys as the files. The update settings are managed
 * keys too (installers/linux/agent.schema.json): the package's installer trusts only the keys
 * and channel in the managed file, whatever a person's environment says.
 */
export const CommandLayer = ConfigLayer;
export type CommandLayer = z.infer<typeof CommandLayer>;

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
  updateUrl: string | undefined;
  /** Trusted release keys for the update manifest, by key id (SPKI PEM). */
  updateKeys: Readonly<Record<string, string>>;
  updateIntervalMs: number;
  updateChannel: 'stable' | 'beta';
  updateMode: 'notify' | 'install';
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
  updateUrl: 'ICARUS_UPDATE_URL',
  updateKeys: 'ICARUS_UPDATE_KEYS',
  updateIntervalMs: 'ICARUS_UPDATE_INTERVAL_MS',
  updateChannel: 'ICARUS_UPDATE_CHANNEL',
  updateMode: 'ICARUS_UPDATE_MODE',
};

function parseLayer(schema: typeof ConfigLayer | typeof CommandLayer, raw: unknown, where: string, keyName: (key: string) => string = (k) => k): CommandLayer {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const key = i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.');
    return `${keyName(key)}: ${i.message}`;
  });
  throw new ConfigError(`bad configuration in ${where}: ${problems.join('; ')}`);
}

function readFileLayer(file: string, what: string): CommandLayer {
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${what} ${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseLayer(ConfigLayer, raw, `${what} ${file}`);
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
export function resolveConfig(flags: z.input<typeof CommandLayer>, env: NodeJS.ProcessEnv = process.env, osManaged?: ManagedLayer): AgentConfig {
  const fromEnv: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const envLayer = parseLayer(CommandLayer, fromEnv, 'the environment', (key) => (key in ENV ? ENV[key as Key] : key));
  const user = readFileLayer(env.ICARUS_CONFIG || defaultUserConfigFile(process.platform, env), 'user config');
  const managed = readFileLayer(defaultManagedConfigFile(process.platform, env), 'managed config');
  const flagLayer = parseLayer(CommandLayer, flags, 'the command line', (key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  // The OS's policy mechanism is what MDM tools write on Windows and macOS: it wins over a file.
  const platform = osManaged ? { ...managed, ...parseLayer(ConfigLayer, osManaged.layer, osManaged.source) } : managed;
  const merged: CommandLayer = { ...user, ...envLayer, ...flagLayer, ...platform };
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
    updateUrl: merged.updateUrl,
    updateKeys: merged.updateKeys ?? {},
    updateIntervalMs: merged.updateIntervalMs ?? 6 * 3_600_000,
    updateChannel: merged.updateChannel ?? 'stable',
    updateMode: merged.updateMode ?? 'notify',
    managedKeys: Object.keys(platform).filter((k): k is Key => k in Fields),
  };
}
