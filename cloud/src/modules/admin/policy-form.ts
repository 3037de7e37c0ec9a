import { ALL_SCOPES, PolicyContent, scopeInfo, type Scope } from '@icarus/shared';
import { AppError } from '../../platform/errors';

/**
 * The policy editor's fields as typed, valid or not, so a refused form comes back with what
 * the admin entered. Names of inputs follow PolicyContent paths (`redactionRules.0.pattern`,
 * `retentionDays`), so the field zod names is the field on the page.
 */
export interface PolicyForm {
  purpose: string;
  scopes: { scope: Scope; enabled: boolean; purpose: string; legalBasis: string }[];
  titleMode: string;
  redactionRules: { pattern: string; replacement: string }[];
  idleThresholdSeconds: string;
  retentionDays: string;
  minGroupSize: string;
  managersSeeIndividuals: boolean;
  reviewBeforeSendMinutes: string;
  localRetentionDays: string;
  controllerName: string;
  controllerContact: string;
}

export const NUMBER_FIELDS = ['idleThresholdSeconds', 'retentionDays', 'minGroupSize', 'reviewBeforeSendMinutes', 'localRetentionDays'] as const;

export function formFromContent(content: PolicyContent): PolicyForm {
  return {
    purpose: content.purpose,
    scopes: ALL_SCOPES.map((scope) => {
      const terms = content.scopes.find((s) => s.scope === scope);
      return { scope, enabled: terms !== undefined, purpose: terms?.purpose ?? '', legalBasis: terms?.legalBasis ?? scopeInfo(scope).defaultLegalBasis };
    }),
    titleMode: content.titleMode,
    redactionRules: content.redactionRules.map((r) => ({ pattern: r.pattern, replacement: r.replacement })),
    idleThresholdSeconds: String(content.idleThresholdSeconds),
    retentionDays: String(content.retentionDays),
    minGroupSize: String(content.minGroupSize),
    managersSeeIndividuals: content.managersSeeIndividuals,
    reviewBeforeSendMinutes: String(content.reviewBeforeSendMinutes),
    localRetentionDays: String(content.localRetentionDays),
    controllerName: content.controller.name,
    controllerContact: content.controller.contact,
  };
}

/** Reads the posted form; rule rows left empty are dropped so the rest keep their numbers in order. */
export function formFromBody(body: Record<string, unknown>): PolicyForm {
  const text = (name: string) => {
    const v = body[name];
    return typeof v === 'string' ? v : '';
  };
  const rules: { pattern: string; replacement: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const pattern = text(`redactionRules.${i}.pattern`);
    const replacement = text(`redactionRules.${i}.replacement`);
    if (pattern !== '' || replacement !== '') rules.push({ pattern, replacement });
  }
  return {
    purpose: text('purpose'),
    scopes: ALL_SCOPES.map((scope) => ({
      scope,
      enabled: body[`scope.${scope}`] !== undefined,
      purpose: text(`scope.${scope}.purpose`),
      legalBasis: text(`scope.${scope}.legalBasis`) || scopeInfo(scope).defaultLegalBasis,
    })),
    titleMode: text('titleMode'),
    redactionRules: rules,
    idleThresholdSeconds: text('idleThresholdSeconds'),
    retentionDays: text('retentionDays'),
    minGroupSize: text('minGroupSize'),
    managersSeeIndividuals: body.managersSeeIndividuals !== undefined,
    reviewBeforeSendMinutes: text('reviewBeforeSendMinutes'),
    localRetentionDays: text('localRetentionDays'),
    controllerName: text('controller.name'),
    controllerContact: text('controller.contact'),
  };
}

/** A number field as typed: blank is missing, anything else goes to zod as a number (NaN says "not a number"). */
function numberOf(value: string): number | undefined {
  const trimmed = value.trim();
  return trimmed === '' ? undefined : Number(trimmed);
}

/** Validates the form with the same schema as the API, so both name the same fields. */
export function contentFromForm(form: PolicyForm): PolicyContent {
  const raw = {
    purpose: form.purpose.trim(),
    scopes: form.scopes.filter((s) => s.enabled).map((s) => ({ scope: s.scope, purpose: s.purpose.trim(), legalBasis: s.legalBasis })),
    titleMode: form.titleMode,
    redactionRules: form.redactionRules.map((r) => ({ pattern: r.pattern, replacement: r.replacement === '' ? '[redacted]' : r.replacement })),
    ...Object.fromEntries(NUMBER_FIELDS.map((f) => [f, numberOf(form[f])])),
    managersSeeIndividuals: form.managersSeeIndividuals,
    controller: { name: form.controllerName.trim(), contact: form.controllerContact.trim() },
  };
  const parsed = PolicyContent.safeParse(raw);
  if (!parsed.success) throw AppError.fromZod(parsed.error, 'form');
  return parsed.data;
}

/** The editor's names for the fields zod reports, for plain-language problems. */
export const POLICY_LABELS = {
  purpose: 'the purpose',
  confirm: 'Confirmation',
  scopes: 'the scopes',
  'scopes.*': 'Scope',
  'scopes.*.purpose': 'the purpose',
  'scopes.*.legalBasis': 'the legal basis',
  titleMode: 'the title mode',
  'redactionRules.*': 'Redaction rule',
  'redactionRules.*.pattern': 'the pattern',
  'redactionRules.*.replacement': 'the replacement',
  idleThresholdSeconds: 'Idle after (seconds)',
  retentionDays: 'Server retention (days)',
  minGroupSize: 'Smallest group shown',
  reviewBeforeSendMinutes: 'Review before send (minutes)',
  localRetentionDays: 'Unsent data kept on the device (days)',
  'controller.name': 'the controller',
  'controller.contact': 'the controller contact',
  content: 'the draft',
  approvals: 'approval',
} as const;
