import type { KeyObject } from 'node:crypto';
import { CompactSign, exportJWK } from 'jose';
import { managersSentence, scopeInfo, type PolicyContent, type ReceiptPayload, type ReceiptPurpose, type Scope } from '@icarus/shared';

export function receiptPurposes(content: PolicyContent, granted: readonly Scope[]): ReceiptPurpose[] {
  return content.scopes.map((terms) => ({
    scope: terms.scope,
    purpose: terms.purpose,
    legalBasis: terms.legalBasis,
    piiCategories: [...scopeInfo(terms.scope).piiCategories],
    fieldsCollected: [...scopeInfo(terms.scope).fieldsCollected],
    onDeviceTransform: scopeInfo(terms.scope).onDeviceTransform(content.titleMode),
    granted: granted.includes(terms.scope),
    termination: `raw data deleted after ${content.retentionDays} days; withdraw at any time in the agent`,
    thirdPartyDisclosure: false,
  }));
}

/** The receipt's and the policy page's sentence on who sees what: the shared one the consent dialog shows. */
export function visibilitySummary(content: PolicyContent): string {
  return `${managersSentence(content)} Every view is recorded in an audit log you can read.`;
}

export async function signReceipt(payload: ReceiptPayload, key: KeyObject, kid: string): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'consent-receipt+jws' }).sign(key);
}

export async function receiptJwks(publicKey: KeyObject, kid: string) {
  const jwk = await exportJWK(publicKey);
  return { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] };
}
