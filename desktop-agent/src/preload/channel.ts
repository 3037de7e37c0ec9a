/** The single Electron IPC channel the preload invokes; the contract channel travels inside it. */
export const IPC_INVOKE_CHANNEL = 'icarus:invoke';
