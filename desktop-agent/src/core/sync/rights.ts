import { z } from 'zod';
import type { TokenSource } from './auth';

/**
 * The employee's data rights as the cloud offers them to a device (device bearer, /v1/me/*;
 * documented in the cloud's /openapi.json). These answer schemas mirror that document: they are
 * not in @icarus/shared yet, and the agent must not import the cloud. Objects are not strict, so
 * a field the server adds later does not break an older agent.
 */
export const RIGHTS_PATHS = {
  viewers: '/v1/me/viewers',
  export: '/v1/me/export',
  erasure: '/v1/me/erasure',
  erasures: '/v1/me/erasures',
} as const;

/** One read or change of the person's data by a manager, admin or auditor (from the audit log). */
export const DataView = z.object({
  at: z.iso.datetime(),
  action: z.string(),
  actor: z.object({ id: z.string(), name: z.string(), role: z.string() }),
  details: z.record(z.string(), z.unknown()),
});
export type DataView = z.infer<typeof DataView>;

/** An audit action as words ("report.team_summary.viewed" -> "report team summary viewed"). */
export function describeAction(action: string): string {
  return action.replace(/[._]+/g, ' ').trim();
}

export const ErasureState = z.enum(['requested', 'completed', 'failed']);

export const ErasureAccepted = z.object({ id: z.uuid(), state: ErasureState, requestedAt: z.iso.datetime() });
export type ErasureAccepted = z.infer<typeof ErasureAccepted>;

export const ErasureRequest = z.object({
  id: z.uuid(),
  via: z.enum(['web', 'device']),
  eraseLocal: z.boolean(),
  state: ErasureState,
  requestedAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
  spansRemoved: z.int().nullable(),
});
export type ErasureRequest = z.infer<typeof ErasureRequest>;

/** "Who viewed my data", export, and erasure, asked by this device on its person's behalf. */
export class RightsClient {
  constructor(private readonly tokens: TokenSource) {}

  /** Newest first. A device not matched to a person gets the server's 403 explaining that. */
  async viewers(): Promise<DataView[]> {
    const { viewers } = await this.tokens.api.request('GET', RIGHTS_PATHS.viewers, z.object({ viewers: z.array(DataView) }), {
      bearer: await this.tokens.token(),
    });
    return viewers;
  }

  /** Everything the server holds about the person, as the server formats it (the export is audited). */
  async exportData(format: 'json' | 'csv'): Promise<string> {
    return this.tokens.api.requestText('GET', `${RIGHTS_PATHS.export}?format=${format}`, { bearer: await this.tokens.token(), timeoutMs: 120_000 });
  }

  /** Accepted (202) and carried out in the background; `eraseLocal` also wipes the person's devices. */
  async requestErasure(eraseLocal: boolean): Promise<ErasureAccepted> {
    return this.tokens.api.request('POST', RIGHTS_PATHS.erasure, ErasureAccepted, { body: { eraseLocal }, bearer: await this.tokens.token() });
  }

  /** Newest first, with their state. */
  async erasures(): Promise<ErasureRequest[]> {
    const { erasures } = await this.tokens.api.request('GET', RIGHTS_PATHS.erasures, z.object({ erasures: z.array(ErasureRequest) }), {
      bearer: await this.tokens.token(),
    });
    return erasures;
  }
}
