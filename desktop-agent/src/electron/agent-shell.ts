import { dialog } from 'electron';
import type { Clock } from '../core/clock';
import type { Agent } from '../core/agent';
import { portOfAgent } from '../ui/agent-port';
import { createAgentHandlers } from '../ui/handlers';
import type { TrayAgent } from './main';

/** How often the tray re-reads state that changes on its own (sync results, pause expiry). */
const TRAY_REFRESH_MS = 15_000;

/**
 * The system's file dialog for an ActivityWatch export (aw-server saves JSON): the path chosen, or
 * null when the person closed it. The import screen fills its path field with it.
 */
export async function chooseActivityWatchExport(open: Pick<typeof dialog, 'showOpenDialog'> = dialog): Promise<string | null> {
  const result = await open.showOpenDialog({
    title: 'Choose your ActivityWatch export',
    properties: ['openFile'],
    filters: [
      { name: 'ActivityWatch export (JSON)', extensions: ['json'] },
      { name: 'All files', extensions: ['*'] },
    ],
  });
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

/** The core's Agent as the tray app sees it. */
export function createTrayAgent(agent: Agent, options: { clock: Clock; osUser: string; agentVersion: string }): TrayAgent {
  const listeners: (() => void)[] = [];
  const changed = () => listeners.forEach((l) => l());
  let timer: NodeJS.Timeout | undefined;
  return {
    handlers: createAgentHandlers({ ...portOfAgent(agent, { ...options, onChange: changed }), chooseImportFile: () => chooseActivityWatchExport() }),
    async start() {
      await agent.start();
      timer = setInterval(changed, TRAY_REFRESH_MS);
    },
    async stop() {
      clearInterval(timer);
      await agent.stop();
    },
    // Closing the span at lock/suspend keeps the time away out of the app's total.
    sleep: () => agent.collector.closeOpenSpan(),
    wake: changed,
    onChange: (listener) => void listeners.push(listener),
  };
}
