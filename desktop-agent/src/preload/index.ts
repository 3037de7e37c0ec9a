import { contextBridge, ipcRenderer } from 'electron';
import { buildApi } from './api';
import { IPC_INVOKE_CHANNEL } from './channel';

/**
 * Runs in the sandboxed preload of every agent window (bundled to one file, since a sandboxed
 * preload cannot load other modules). All channels go over one Electron channel carrying the
 * contract's channel name, and main checks both the sender and the payload.
 */
export const api = buildApi((channel, request): Promise<unknown> => ipcRenderer.invoke(IPC_INVOKE_CHANNEL, channel, request));

contextBridge.exposeInMainWorld('icarus', api);
