import { z } from 'zod';
import { safeText } from './text';
import { LegalBasis, Scope, TitleMode } from './scopes';
import { Instant } from './span';

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

/** Where imported history comes from: the formats the agent reads. */
export const ImportSource = z.enum(['activitywatch']);
export type ImportSource = z.infer<typeof ImportSource>;

/** What the person was shown before granting an import: what it uploads, in numbers. */
export const ImportPreview = z.strictObject({
  spans: z.int().min(0).max(10_000_000),
  activeMs: z.int().min(0),
  idleMs: z.int().min(0),
  apps: z.int().min(0).max(1_000_000),
  titles: z.boolean(),
});
export type ImportPreview = z.infer<typeof ImportPreview>;

/**
 * A consent for history recorded elsewhere before now: the scopes named may be stored for the
 * past period [from, to), decided now. It covers only spans sent in batches that name it, never
 * live capture, and it is withdrawn (and its history erased) on its own.
 */
export const ImportConsentRequest = z
  .strictObject({
    policyVersion: z.int().min(1),
    scopes: z.array(Scope).min(1).max(3),
    from: Instant,
    to: Instant,
    source: ImportSource,
    preview: ImportPreview,
    method: CollectionMethod.default('terminal'),
    agentVersion: safeText(z.string().max(64)).optional(),
  })
  .check((ctx) => {
    if (Date.parse(ctx.value.to) <= Date.parse(ctx.value.from)) {
      ctx.issues.push({ code: 'custom', input: ctx.value, path: ['to'], message: 'must be after from' });
    }
    if (new Set(ctx.value.scopes).size !== ctx.value.scopes.length) {
      ctx.issues.push({ code: 'custom', input: ctx.value, path: ['scopes'], message: 'names a scope twice' });
    }
  });
export type ImportConsentRequest = z.infer<typeof ImportConsentRequest>;

/** An import grant as the device and the person see it. `withdrawnAt` set: its history is erased. */
export const ImportGrant = z.strictObject({
  id: z.uuid(),
  source: ImportSource,
  from: Instant,
  to: Instant,
  scopes: z.array(Scope),
  policyVersion: z.int(),
  decidedAt: Instant,
  withdrawnAt: Instant.nullable(),
  preview: ImportPreview,
});
export type ImportGrant = z.infer<typeof ImportGrant>;

/** One purpose of a receipt signed before receipts followed the Kantara v1.1 schema to the letter. */
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

const ReceiptPrincipal = z.strictObject({
  userId: z.uuid().nullable(),
  name: z.string().optional(),
  email: z.string().optional(),
  osUser: z.string(),
  deviceId: z.uuid(),
});
const ReceiptPolicy = z.strictObject({ version: z.int(), url: z.string(), hash: z.string(), titleMode: TitleMode });
const ReceiptVisibility = z.strictObject({
  managersSeeIndividuals: z.boolean(),
  minGroupSize: z.int(),
  summary: z.string(),
});

/**
 * Receipts signed before the change to the Kantara v1.1 schema's own field names (ISO time,
 * `receiptId`, `purposes`). Devices keep them, so they still parse and verify.
 */
export const LegacyReceiptPayload = z.strictObject({
  version: z.literal('KI-CR-v1.1.0'),
  receiptId: z.uuid(),
  consentTimestamp: z.iso.datetime(),
  collectionMethod: CollectionMethod,
  decision: ConsentDecisionKind,
  /**
   * The proven person (bound by pairing code or IT) and the device. `osUser` is only the hint the
   * agent enrolled under. `name`/`email` are absent only on receipts signed before binding by proof.
   */
  principal: ReceiptPrincipal,
  controller: z.strictObject({ name: z.string(), contact: z.string(), orgId: z.uuid() }),
  policy: ReceiptPolicy,
  purposes: z.array(ReceiptPurpose),
  scopesGranted: z.array(Scope),
  retentionDays: z.int(),
  visibility: ReceiptVisibility,
  agentVersion: z.string().nullable(),
});
export type LegacyReceiptPayload = z.infer<typeof LegacyReceiptPayload>;

/**
 * One purpose as the Kantara v1.1 schema's `services[].purposes[]` item (`consentType`,
 * `purposeCategory`, `piiCategory`, `primaryPurpose`, `termination`, `thirdPartyDisclosure`),
 * with the scope's own terms beside it.
 */
export const ReceiptServicePurpose = z.strictObject({
  purpose: z.string(),
  consentType: z.literal('EXPLICIT'),
  purposeCategory: z.array(z.string()),
  piiCategory: z.array(z.string()),
  primaryPurpose: z.boolean(),
  termination: z.string(),
  thirdPartyDisclosure: z.literal(false),
  scope: Scope,
  legalBasis: LegalBasis,
  fieldsCollected: z.array(z.string()),
  onDeviceTransform: z.string(),
  granted: z.boolean(),
});
export type ReceiptServicePurpose = z.infer<typeof ReceiptServicePurpose>;

/**
 * A consent receipt: every field the Kantara Consent Receipt v1.1 schema requires, under its
 * names (`consentTimestamp` in epoch seconds), and the fields of an ISO/IEC TS 27560 consent
 * record the schema leaves room for (`recordId`, `language`, `jurisdiction`, `storageLocations`),
 * then the product's own terms (decision, principal, policy, visibility).
 */
export const ReceiptPayload = z.strictObject({
  version: z.literal('KI-CR-v1.1.0'),
  jurisdiction: z.string(),
  consentTimestamp: z.int().min(0),
  collectionMethod: CollectionMethod,
  consentReceiptID: z.uuid(),
  language: z.string(),
  /** The person's directory id (or the device's, never on a receipt signed today: only bound devices consent). */
  piiPrincipalId: z.string(),
  piiControllers: z.array(
    z.strictObject({
      piiController: z.string(),
      contact: z.string(),
      /** No postal address or phone is kept for a controller: empty, as the schema requires the fields. */
      address: z.strictObject({}),
      email: z.string(),
      phone: z.string(),
      piiControllerUrl: z.string(),
    }),
  ),
  policyUrl: z.string(),
  services: z.array(z.strictObject({ service: z.string(), purposes: z.array(ReceiptServicePurpose) })),
  sensitive: z.boolean(),
  spiCat: z.array(z.string()),
  /** ISO/IEC TS 27560: the consent record this receipt is of (the record's id is the receipt's). */
  recordId: z.uuid(),
  storageLocations: z.array(z.string()),
  decision: ConsentDecisionKind,
  principal: ReceiptPrincipal,
  controller: z.strictObject({ name: z.string(), contact: z.string(), orgId: z.uuid() }),
  policy: ReceiptPolicy,
  scopesGranted: z.array(Scope),
  retentionDays: z.int(),
  visibility: ReceiptVisibility,
  agentVersion: z.string().nullable(),
  /**
   * Only on the receipt of an import grant (and of its withdrawal): the consent covers history
   * of this past period, brought in from `source`, not capture from now on.
   */
  importedHistory: z.strictObject({ grantId: z.uuid(), source: ImportSource, from: Instant, to: Instant }).optional(),
});
export type ReceiptPayload = z.infer<typeof ReceiptPayload>;

/** What a device or page shows of any receipt, old or new: one reading of both shapes. */
export function receiptFacts(payload: ReceiptPayload | LegacyReceiptPayload): {
  receiptId: string;
  consentAt: string;
  purposes: { scope: Scope; legalBasis: LegalBasis; granted: boolean; fieldsCollected: string[]; onDeviceTransform: string }[];
} {
  if ('receiptId' in payload) return { receiptId: payload.receiptId, consentAt: payload.consentTimestamp, purposes: payload.purposes };
  return {
    receiptId: payload.consentReceiptID,
    consentAt: new Date(payload.consentTimestamp * 1000).toISOString(),
    purposes: payload.services.flatMap((s) => s.purposes),
  };
}

/** The signed receipt: `jws` is a compact Ed25519 JWS whose payload is `payload`. */
export const ConsentReceipt = z.strictObject({
  jws: z.string(),
  payload: z.union([ReceiptPayload, LegacyReceiptPayload]),
});
export type ConsentReceipt = z.infer<typeof ConsentReceipt>;

export const ConsentResponse = z.strictObject({ receipt: ConsentReceipt });
export type ConsentResponse = z.infer<typeof ConsentResponse>;

/** The answer to an import grant and to its withdrawal (`erasedSpans`: how many stored spans the withdrawal erased). */
export const ImportConsentResponse = z.strictObject({
  grant: ImportGrant,
  receipt: ConsentReceipt,
  erasedSpans: z.int().min(0).optional(),
});
export type ImportConsentResponse = z.infer<typeof ImportConsentResponse>;

export const ImportGrantList = z.strictObject({ grants: z.array(ImportGrant) });
export type ImportGrantList = z.infer<typeof ImportGrantList>;
