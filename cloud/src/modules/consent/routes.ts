import { Hono, type MiddlewareHandler } from 'hono';
import { ConsentDecision, IMPORT_WITHDRAW_PATH, ImportConsentRequest, WIRE_PATHS } from '@icarus/shared';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readJson } from '../../platform/http/body';
import { receiptJwks } from './receipt';
import type { ConsentService } from './service';
import type { Keyring, SigningKey } from '../../platform/keyring';
import { z } from 'zod';

/** Device-facing (bearer); beside WIRE_PATHS.policy. */
export const POLICY_DIFF_PATH = '/v1/policy/diff';
const Version = z.coerce.number().int().min(1).max(1_000_000);
export const DiffQuery = z.strictObject({ from: Version.optional(), to: Version.optional() });

export function consentRoutes(deps: {
  consent: ConsentService;
  deviceAuth: MiddlewareHandler<AppEnv>;
  maxBodyBytes: number;
  receiptKeys: Keyring<SigningKey>;
  knownReceiptKeys?: () => Promise<{ keyId: string; jwk: Record<string, unknown> }[]>;
}) {
  const { consent } = deps;
  return (
    new Hono<AppEnv>()
      .get(WIRE_PATHS.receiptKeys, async (c) => c.json(await receiptJwks(deps.receiptKeys, (await deps.knownReceiptKeys?.()) ?? [])))
      .get(WIRE_PATHS.policy, deps.deviceAuth, async (c) => c.json(await consent.currentPolicy(c.get('device').orgId)))
      // What changed since the version the device decided on, so the agent can show it before asking again.
      .get(POLICY_DIFF_PATH, deps.deviceAuth, async (c) => {
        const parsed = DiffQuery.safeParse(c.req.query());
        if (!parsed.success) throw AppError.fromZod(parsed.error, 'query');
        const diff = await consent.diff(c.get('device').orgId, parsed.data.from, parsed.data.to);
        if (!diff)
          throw new AppError('not_found', 'No such published policy version', [
            { path: parsed.data.to === undefined ? 'from' : 'to', problem: 'not a published version' },
          ]);
        return c.json(diff);
      })
      .post(WIRE_PATHS.consent, deps.deviceAuth, async (c) => {
        const decision = await readJson(c, ConsentDecision, deps.maxBodyBytes);
        const receipt = await consent.decide(c.get('device'), decision);
        return c.json({ receipt }, 201);
      })
      .post(WIRE_PATHS.consentImports, deps.deviceAuth, async (c) => {
        const request = await readJson(c, ImportConsentRequest, deps.maxBodyBytes);
        return c.json(await consent.imports.grant(c.get('device'), request), 201);
      })
      .get(WIRE_PATHS.consentImports, deps.deviceAuth, async (c) => c.json({ grants: await consent.imports.grantsOf(c.get('device')) }))
      .post(IMPORT_WITHDRAW_PATH, deps.deviceAuth, async (c) => c.json(await consent.imports.withdraw(c.get('device'), c.req.param('id'))))
  );
}
