import { IPC_CONTRACT, isIpcChannel, type IpcHandlers, type IpcResult } from '@icarus/shared';

/** A handler refusing for a reason the person should read (e.g. no policy fetched yet). */
export class IpcRefusal extends Error {
  constructor(
    readonly code: 'unavailable' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'IpcRefusal';
  }
}

/**
 * The one entry point for every message from a screen, used by Electron's main process and by
 * the loopback server alike: unknown channels and payloads that do not match the contract are
 * refused before any handler runs, and a handler's answer is checked on the way out too, so a
 * bug in the agent cannot leak fields the contract does not name.
 */
export async function dispatchIpc(handlers: IpcHandlers, channel: unknown, payload: unknown): Promise<IpcResult<unknown>> {
  if (!isIpcChannel(channel)) return { ok: false, error: { code: 'unknown_channel', message: `no such channel: ${String(channel).slice(0, 64)}` } };
  const contract = IPC_CONTRACT[channel];
  const request = contract.request.safeParse(payload ?? {});
  if (!request.success) {
    const problems = request.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'bad_request', message: `${channel}: ${problems}` } };
  }
  try {
    // The correlation between `channel` and its handler's argument type is lost on a union key;
    // the request was just parsed with exactly that channel's schema.
    const handler = handlers[channel] as (request: unknown) => Promise<unknown>;
    const value = contract.response.parse(await handler(request.data));
    return { ok: true, value };
  } catch (error) {
    if (error instanceof IpcRefusal) return { ok: false, error: { code: error.code, message: error.message } };
    return { ok: false, error: { code: 'failed', message: error instanceof Error ? error.message : String(error) } };
  }
}
