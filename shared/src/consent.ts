import { z } from 'zod';
import { safeText } from './text';
import { LegalBasis, Scope, TitleMode } from './scopes';

/**
 * granted: exactly `scopes` are granted from now on (the rest of the policy's scopes declined).
 * declined: nothing is granted. withdrawn: `scopes` are withdrawn (all of them when empty).
 */
export const ConsentDecisionKind = z.enum(['granted', 'declined', 'withdrawn']);
export type ConsentDecisionKind = z.infer<typeof ConsentDecisionKind>;

export const CollectionMethod = z.enum(['tray-dialog', 'terminal', 'web']);
export type CollectionMethod = z.infer<typeof CollectionMethod>;

export const ConsentDecision = z.strictObject({
  policyVersion: z.int().min(1),
  scopes: z.array(Scope).max(3),
  decision: ConsentDecisionKind,
  method: CollectionMethod.default('terminal'),
  agentVersion: safeText(z.string().max(64)).optional(),
});
export type ConsentDecision = z.infer<typeof ConsentDecision>;

/** One purpose of the receipt, in the spirit of the Kantara Consent Receipt v1.1 `services`. */
export const ReceiptPurpose = z.strictObject({
  scope: Scope,
  purpose: z.string(),
  legalBasis: LegalBasis,
  piiCategories: z.array(z.string()),
  fieldsCollected: z.array(z.string()),
  onDeviceTransform: z.string(),
  granted: z.boolean(),
  termination: z.string(),
  thirdPartyDisclosure: z.boolean(),
});
export type ReceiptPurpose = z.infer<typeof ReceiptPurpose>;

export const ReceiptPayload = z.strictObject({
  version: z.literal('KI-CR-v1.1.0'),
  receiptId: z.uuid(),
  consentTimestamp: z.iso.datetime(),
  collectionMethod: CollectionMethod,
  decision: ConsentDecisionKind,
  /**
   * The proven person (bound by pairing code or IT) and the device. `osUser` is only the hint the
   * agent enrolled under. `name`/`email` are absent only on receipts signed before binding by proof.
   */
  principal: z.strictObject({
    userId: z.uuid().nullable(),
    name: z.string().optional(),
    email: z.string().optional(),
    osUser: z.string(),
    deviceId: z.uuid(),
  }),
  controller: z.strictObject({ name: z.string(), contact: z.string(), orgId: z.uuid() }),
  policy: z.strictObject({ version: z.int(), url: z.string(), hash: z.string(), titleMode: TitleMode }),
  purposes: z.array(ReceiptPurpose),
  scopesGranted: z.array(Scope),
  retentionDays: z.int(),
  visibility: z.strictObject({
    managersSeeIndividuals: z.boolean(),
    minGroupSize: z.int(),
    summary: z.string(),
  }),
  agentVersion: z.string().nullable(),
});
export type ReceiptPayload = z.infer<typeof ReceiptPayload>;

/** The signed receipt: `jws` is a compact Ed25519 JWS whose payload is `payload`. */
export const ConsentReceipt = z.strictObject({
  jws: z.string(),
  payload: ReceiptPayload,
});
export type ConsentReceipt = z.infer<typeof ConsentReceipt>;

export const ConsentResponse = z.strictObject({ receipt: ConsentReceipt });
export type ConsentResponse = z.infer<typeof ConsentResponse>;
