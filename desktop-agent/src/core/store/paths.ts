import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The per-user app-data folder the agent keeps its database and key in:
 * $XDG_DATA_HOME/icarus-nova on Linux (~/.local/share when unset), ~/Library/Application
 * Support/Icarus Nova on macOS, %APPDATA%\Icarus Nova on Windows.
 */
export function defaultDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Icarus Nova');
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'Icarus Nova');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'icarus-nova');
}

/** The user's own config file (lowest precedence). */
export function defaultUserConfigFile(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || homedir();
  if (platform === 'darwin' || platform === 'win32') return join(defaultDataDir(platform, env), 'agent.json');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'icarus-nova', 'agent.json');
}

/** The file IT deploys through MDM; it wins over everything else. */
export function defaultManagedConfigFile(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (env.ICARUS_MANAGED_CONFIG) return env.ICARUS_MANAGED_CONFIG;
  if (platform === 'darwin') return '/Library/Application Support/Icarus Nova/agent.json';
  if (platform === 'win32') return join(env.ProgramData || 'C:\\ProgramData', 'Icarus Nova', 'agent.json');
  return '/etc/icarus-nova/agent.json';
}
