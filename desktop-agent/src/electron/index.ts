/**
 * The tray app's entry (electron-builder's `main`). Everything runs in setupX() steps from
 * main.ts; this file only assembles the core agent for this machine.
 */
import { app } from 'electron';
import { join } from 'node:path';
import { AGENT_VERSION, Agent, defaultSources, ensureEnrolled } from '../core/agent';
import { systemClock } from '../core/clock';
import { resolveConfig } from '../core/config';
import { AgentStore } from '../core/store/store';
import { createTrayAgent } from './agent-shell';
import { safeStorageKeyVault } from './device-key';
import { defaultOsUser, launchTrayApp, type TrayAppOptions } from './main';
import { PowerMonitorIdleSource } from './power';
import { readManagedSettings } from './platform/managed';
import { setupUpdater } from './updater';

// The single-instance lock first, then app ready, then this: a second launch quits before it
// opens the store or enrolls (see launchTrayApp).
async function prepare(): Promise<Omit<TrayAppOptions, 'instance'>> {
  const managed = readManagedSettings(process.platform);
  // Registry / managed-preferences values outrank everything, like /etc/icarus-nova/agent.json.
  const config = resolveConfig({}, process.env, managed);
  const store = AgentStore.open(config.dataDir);
  // safeStorage answers only once the app is ready (launchTrayApp waited), and the key is needed to enroll.
  const keyVault = safeStorageKeyVault(store.keyFile);
  const device = await ensureEnrolled(store, config, undefined, keyVault);
  const sources = { window: defaultSources(config.captureBackend).window, idle: new PowerMonitorIdleSource() };
  const agent = new Agent(store, device, config, sources, systemClock, (line) => console.log(line), keyVault);
  const resources = app.isPackaged ? process.resourcesPath : join(__dirname, '..', '..', 'build');
  const updateFeed = managed.updateFeedUrl;
  return {
    agent: createTrayAgent(agent, { clock: systemClock, osUser: defaultOsUser(), agentVersion: AGENT_VERSION }),
    pagesDir: join(resources, 'ui'),
    preloadFile: join(resources, 'preload.cjs'),
    iconsDir: join(resources, 'icons'),
    ...(updateFeed && { checkForUpdates: setupUpdater({ feedUrl: updateFeed, log: (l) => console.log(l) }) }),
  };
}

launchTrayApp(prepare).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  app.exit(1);
});
