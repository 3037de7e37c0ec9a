import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { AGENT_VERSION, type Agent } from '../core/agent';
import type { Clock } from '../core/clock';
import { portOfAgent } from './agent-port';
import { createAgentHandlers } from './handlers';
import { startUiServer, type UiServer } from './server';

/**
 * For the headless agent (`icarus-agent ui`, or `run --ui`): serves the
 * same screens the tray app shows on 127.0.0.1, over the running Agent. Uses the prebuilt pages
 * next to the bundle when present (the .deb ships them in /usr/lib/icarus-nova/ui), else builds
 * them once into a temp folder (development).
 */
export async function serveAgentUi(agent: Agent, clock: Clock, prebuiltDir?: string): Promise<UiServer> {
  // Loaded only when needed: esbuild is a development tool the packaged agent does not ship.
  const assetsDir =
    prebuiltDir && existsSync(join(prebuiltDir, 'app.js')) ? prebuiltDir : await (await import('./build')).buildUi(mkdtempSync(join(tmpdir(), 'icarus-ui-')));
  const port = portOfAgent(agent, { clock, osUser: userInfo().username, agentVersion: AGENT_VERSION });
  return startUiServer({ handlers: createAgentHandlers(port), assetsDir });
}
