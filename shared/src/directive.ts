import { z } from 'zod';
import { Scope } from './scopes';

/** Instructions the server returns with an ingest result; the agent obeys them in order. */
export const Directive = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('policy_changed'),
    policyVersion: z.int().min(1),
    /** Scopes whose capture must stop until the person decides again. */
    scopesNeedingConsent: z.array(Scope),
  }),
  z.strictObject({ type: z.literal('consent_revoked'), scopes: z.array(Scope), reason: z.string() }),
  z.strictObject({ type: z.literal('pause'), until: z.iso.datetime(), reason: z.string() }),
  z.strictObject({ type: z.literal('erase_local'), reason: z.string() }),
  z.strictObject({ type: z.literal('message'), id: z.uuid(), text: z.string().max(2000) }),
  /**
   * The person this device spoke for is gone from the organisation's directory (deprovisioned by
   * the identity provider): the device records for no one from now on and tells whoever is at it.
   */
  z.strictObject({ type: z.literal('binding_ended'), reason: z.string().max(500) }),
  /**
   * The person withdrew an import of past history somewhere else (My data on the web): the server
   * has erased it, and the device deletes its own copy of that grant's spans and says so.
   */
  z.strictObject({ type: z.literal('import_withdrawn'), grantId: z.uuid(), reason: z.string().max(500) }),
]);
export type Directive = z.infer<typeof Directive>;
