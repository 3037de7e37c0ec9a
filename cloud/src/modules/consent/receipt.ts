import { publicJwks, type SigningKey } from '../../platform/keyring';
import { CompactSign } from 'jose';
import {
  managersSentence,
  scopeInfo,
  type CollectionMethod,
  type ConsentDecisionKind,
  type PolicyContent,
  type ReceiptPayload,
  type ReceiptServicePurpose,
  type Scope,
  type TitleMode,
} from '@icarus/shared';

/** Where a receipt says it was given and its records are kept: the deployment's settings. */
export interface ReceiptContext {
  jurisdiction: string;
  language: string;
  storageLocations: readonly string[];
}

/** The one service every receipt names: the policy's scopes are its purposes. */
export const RECEIPT_SERVICE = 'Icarus Nova workplace activity records';

export function receiptPurposes(content: PolicyContent, granted: readonly Scope[]): ReceiptServicePurpose[] {
  return content.scopes.map((terms, i) => ({
    purpose: terms.purpose,
    consentType: 'EXPLICIT',
    // Kantara's purpose categories name the kind of use; ours is one: reporting on work to the employer.
    purposeCategory: ['Workplace activity reporting'],
    piiCategory: [...scopeInfo(terms.scope).piiCategories],
    primaryPurpose: i === 0,
    termination: `raw data deleted after ${content.retentionDays} days; withdraw at any time in the agent`,
    thirdPartyDisclosure: false,
    scope: terms.scope,
    legalBasis: terms.legalBasis,
    fieldsCollected: [...scopeInfo(terms.scope).fieldsCollected],
    onDeviceTransform: scopeInfo(terms.scope).onDeviceTransform(content.titleMode),
    granted: granted.includes(terms.scope),
  }));
}

/** Everything one receipt states, from the decision and the policy version it was made under. */
export function buildReceiptPayload(input: {
  context: ReceiptContext;
  receiptId: string;
  at: Date;
  method: CollectionMethod;
  decision: ConsentDecisionKind;
  person: { id: string; name: string; email: string };
  device: { id: string; osUser: string };
  orgId: string;
  policy: { version: number; url: string; hash: string; content: PolicyContent };
  granted: Scope[];
  agentVersion: string | null;
  /** An import grant's (or its withdrawal's) receipt: the past period it covers. */
  importedHistory?: ReceiptPayload['importedHistory'];
}): ReceiptPayload {
  const { context, policy } = input;
  const controller = policy.content.controller;
  const titleMode: TitleMode = policy.content.titleMode;
  return {
    version: 'KI-CR-v1.1.0',
    jurisdiction: context.jurisdiction,
    consentTimestamp: Math.floor(input.at.getTime() / 1000),
    collectionMethod: input.method,
    consentReceiptID: input.receiptId,
    language: context.language,
    piiPrincipalId: input.person.id,
    piiControllers: [
      {
        piiController: controller.name,
        contact: controller.contact,
        address: {},
        email: controller.contact.includes('@') ? controller.contact : '',
        phone: '',
        piiControllerUrl: policy.url,
      },
    ],
    policyUrl: policy.url,
    services: [{ service: RECEIPT_SERVICE, purposes: receiptPurposes(policy.content, input.granted) }],
    sensitive: false,
    spiCat: [],
    recordId: input.receiptId,
    storageLocations: [...context.storageLocations],
    decision: input.decision,
    principal: { userId: input.person.id, name: input.person.name, email: input.person.email, osUser: input.device.osUser, deviceId: input.device.id },
    controller: { ...controller, orgId: input.orgId },
    policy: { version: policy.version, url: policy.url, hash: policy.hash, titleMode },
    scopesGranted: input.granted,
    retentionDays: policy.content.retentionDays,
    visibility: {
      managersSeeIndividuals: policy.content.managersSeeIndividuals,
      minGroupSize: policy.content.minGroupSize,
      summary: visibilitySummary(policy.content),
    },
    agentVersion: input.agentVersion,
    ...(input.importedHistory ? { importedHistory: input.importedHistory } : {}),
  };
}

/** The receipt's and the policy page's sentence on who sees what: the shared one the consent dialog shows. */
export function visibilitySummary(content: PolicyContent): string {
  return `${managersSentence(content)} Every view is recorded in an audit log you can read.`;
}

export async function signReceipt(payload: ReceiptPayload, key: SigningKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA', kid: key.keyId, typ: 'consent-receipt+jws' })
    .sign(key.privateKey);
}

/** Every public key of the receipt ring (current and retired), for `/v1/receipt-keys`. */
export const receiptJwks = publicJwks;
