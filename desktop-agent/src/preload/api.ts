import { z } from 'zod';
import { IPC_CONTRACT, IpcErrorCode, type IpcChannel, type IpcRequest, type IpcResponse } from '@icarus/shared';

/** The envelope main and the loopback server answer with; checked before anything is read from it. */
const Envelope = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: z.object({ code: IpcErrorCode, message: z.string() }) }),
]);

/** How a screen reaches the agent: Electron IPC in the tray app, HTTP on the loopback server. */
export type Transport = (channel: IpcChannel, request: unknown) => Promise<unknown>;

export class AgentCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AgentCallError';
  }
}

/**
 * The narrow, named API the screens get: one method per contract channel and nothing generic,
 * so a compromised page cannot name a channel of its own. Answers are parsed with the
 * contract's schema here as well, so pages receive typed values without any cast.
 */
export function buildApi(transport: Transport) {
  async function call<C extends IpcChannel>(channel: C, request: IpcRequest<C>): Promise<IpcResponse<C>> {
    const answer = Envelope.safeParse(await transport(channel, request));
    if (!answer.success) throw new AgentCallError('failed', 'malformed answer from the agent');
    const result = answer.data;
    if (!result.ok) throw new AgentCallError(result.error.code, result.error.message);
    // zod's output for IPC_CONTRACT[C] is IpcResponse<C>; TypeScript cannot follow a generic key.
    return IPC_CONTRACT[channel].response.parse(result.value) as IpcResponse<C>;
  }
  return {
    status: () => call('status:get', {}),
    consent: () => call('consent:get', {}),
    decide: (policyVersion: number, granted: IpcRequest<'consent:decide'>['granted']) => call('consent:decide', { policyVersion, granted }),
    withdraw: (scopes: IpcRequest<'consent:withdraw'>['scopes']) => call('consent:withdraw', { scopes }),
    pair: (code: string) => call('device:pair', { code }),
    notice: () => call('notice:get', {}),
    acknowledgeNotice: (version: number, hash: string) => call('notice:acknowledge', { version, hash }),
    receipts: () => call('receipts:list', {}),
    myDataDay: (day?: string) => call('mydata:day', day === undefined ? {} : { day }),
    forget: (spanIds: string[]) => call('mydata:forget', { spanIds }),
    exportData: (format: 'json' | 'csv') => call('mydata:export', { format }),
    viewers: () => call('mydata:viewers', {}),
    requestErasure: () => call('mydata:erase', { confirm: true }),
    importPreview: (path: string, scopes?: IpcRequest<'imports:preview'>['scopes']) =>
      call('imports:preview', scopes === undefined ? { path } : { path, scopes }),
    importGrant: (request: IpcRequest<'imports:grant'>) => call('imports:grant', request),
    imports: () => call('imports:list', {}),
    chooseImportFile: () => call('imports:choose-file', {}),
    withdrawImport: (id: string) => call('imports:withdraw', { id }),
    messages: () => call('messages:list', {}),
    dismissMessage: (id: string) => call('messages:dismiss', { id }),
    pause: (preset: IpcRequest<'pause:set'>['preset']) => call('pause:set', { preset }),
    resume: () => call('pause:resume', {}),
  };
}

export type IcarusApi = ReturnType<typeof buildApi>;
