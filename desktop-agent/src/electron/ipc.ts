import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { IpcHandlers, IpcResult } from '@icarus/shared';
import { IPC_INVOKE_CHANNEL } from '../preload/channel';
import { dispatchIpc } from '../ui/dispatch';

/**
 * Every message from a screen arrives here: refused unless it comes from one of the agent's own
 * windows showing one of its own pages (electron/fiddle's check), then validated against the
 * contract by dispatchIpc before any handler runs.
 */
export function setupIpc(handlers: IpcHandlers, owns: (sender: WebContents) => boolean): () => void {
  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event: IpcMainInvokeEvent, channel: unknown, payload: unknown): Promise<IpcResult<unknown>> => {
    if (!owns(event.sender)) return { ok: false, error: { code: 'forbidden', message: 'not an Icarus Nova window' } };
    return dispatchIpc(handlers, channel, payload);
  });
  return () => ipcMain.removeHandler(IPC_INVOKE_CHANNEL);
}
