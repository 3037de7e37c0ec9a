import type { KeyObject } from 'node:crypto';
import { CompactSign, exportJWK } from 'jose';
import type { PolicyContent, ReceiptPayload, ReceiptPurpose, Scope, TitleMode } from '@icarus/shared';

const FIELDS: Record<Scope, { fields: string[]; categories: string[]; transform: (mode: TitleMode) => string }> = {
  app_usage: {
    fields: ['app', 'start', 'durationMs'],
    categories: ['application usage', 'working time'],
    transform: () => 'consecutive samples of the same application merged into one span',
  },
  idle: {
    fields: ['idle', 'start', 'durationMs'],
    categories: ['presence (idle / active)'],
    transform: () => 'operating-system idle timer only; no keystrokes or mouse counts',
  },
  window_titles: {
    fields: ['title'],
    categories: ['window titles'],
    transform: (mode) =>
      mode === 'full' ? 'sent as shown' : mode === 'redacted' ? 'redacted on the device by the policy rules' : 'SHA-256 hash made on the device',
  },
};

export function receiptPurposes(content: PolicyContent, granted: readonly Scope[]): ReceiptPurpose[] {
  return content.scopes.map((terms) => ({
    scope: terms.scope,
    purpose: terms.purpose,
    legalBasis: terms.legalBasis,
    piiCategories: FIELDS[terms.scope].categories,
    fieldsCollected: FIELDS[terms.scope].fields,
    onDeviceTransform: FIELDS[terms.scope].transform(content.titleMode),
    granted: granted.includes(terms.scope),
    termination: `raw data deleted after ${content.retentionDays} days; withdraw at any time in the agent`,
    thirdPartyDisclosure: false,
  }));
}

export function visibilitySummary(content: PolicyContent): string {
  const individuals = content.managersSeeIndividuals
    ? 'Managers may see your individual totals for their own teams.'
    : 'Managers never see individual data, only team totals.';
  return `${individuals} Groups smaller than ${content.minGroupSize} people are never shown. Every view is recorded in an audit log you can read.`;
}

export async function signReceipt(payload: ReceiptPayload, key: KeyObject, kid: string): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'consent-receipt+jws' })
    .sign(key);
}

export async function receiptJwks(publicKey: KeyObject, kid: string) {
  const jwk = await exportJWK(publicKey);
  return { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] };
}
