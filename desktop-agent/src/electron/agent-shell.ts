import { dialog, Notification } from 'electron';
import type { AgentMessage } from '@icarus/shared';
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

/**
 * Shows each message from the organisation once, as a system notification, when it first
 * appears; the messages already held when the tray app starts are on the status screen and
 * are not announced again. Returns what to call with the current messages after each change.
 */
export function messageAnnouncer(show: (m: AgentMessage) => void): (messages: readonly AgentMessage[]) => void {
  let seen: Set<string> | undefined;
  return (messages) => {
    const first = seen === undefined;
    seen ??= new Set();
    for (const m of [...messages].reverse()) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      if (!first) show(m);
    }
  };
}

/** The core's Agent as the tray app sees it. */
export function createTrayAgent(agent: Agent, options: { clock: Clock; osUser: string; agentVersion: string }): TrayAgent {
  const listeners: (() => void)[] = [];
  const changed = () => listeners.forEach((l) => l());
  let timer: NodeJS.Timeout | undefined;
  const handlers = createAgentHandlers({ ...portOfAgent(agent, { ...options, onChange: changed }), chooseImportFile: () => chooseActivityWatchExport() });
  const announce = messageAnnouncer((m) => {
    if (Notification.isSupported()) new Notification({ title: 'Message from your organisation', body: m.text }).show();
  });
  const readMessages = () =>
    void handlers['messages:list']({}).then(
      ({ messages }) => announce(messages),
      () => undefined,
    );
  listeners.push(readMessages);
  return {
    handlers,
    async start() {
      await agent.start();
      // What is already held is the baseline: only messages arriving from now on are announced.
      readMessages();
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
