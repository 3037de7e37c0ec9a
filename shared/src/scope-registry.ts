import { ALL_SCOPES, type LegalBasis, type Scope, type TitleMode } from './scopes';

/** The span fields that carry each scope's data; a span holding one needs that scope. */
export interface SpanScopeFields {
  app?: string | undefined;
  idle?: boolean | undefined;
  title?: string | undefined;
}

/**
 * Everything the product says and does per scope, in one place. Typed with
 * `satisfies Record<Scope, ScopeInfo>`, so a new scope fails to compile until it has every
 * entry here, and every per-scope table elsewhere (typed `Record<Scope, …>`) is named too.
 */
export interface ScopeInfo {
  /** The span field whose presence means a span needs this scope (`idle: false` is an active span, not idle data). */
  spanField: keyof SpanScopeFields;
  /** What a receipt lists as collected under this scope. */
  fieldsCollected: readonly string[];
  /** Kantara receipt PII categories. */
  piiCategories: readonly string[];
  /** Short name, as on the public policy page. */
  label: string;
  /** Name in the agent's consent dialog and status, phrased for the person being recorded. */
  employeeLabel: string;
  /** Name inside a sentence, as in notifications ("may now record: …"). */
  inSentence: string;
  /**
   * The agent's "Example from this computer": `live` is filled with what the computer shows right
   * now (`{app}`, `{title}`, `{seconds}`), `unavailable` when the agent cannot see it.
   */
  example: { live: string; unavailable: string };
  /** The basis a new policy proposes; consent, since refusing any of these costs the person nothing. */
  defaultLegalBasis: LegalBasis;
  /** The purpose a new org's policy states; null keeps the scope out of the default policy. */
  defaultPurpose: string | null;
  /** What the agent does to the data before it leaves the device, as a receipt states it. */
  onDeviceTransform: (mode: TitleMode) => string;
}

export const SCOPES = {
  app_usage: {
    spanField: 'app',
    fieldsCollected: ['app', 'start', 'durationMs'],
    piiCategories: ['application usage', 'working time'],
    label: 'Application usage',
    employeeLabel: 'Which application is in front',
    inSentence: 'which application is in front',
    example: {
      live: 'Right now this would record the application "{app}" and how long it stays in front.',
      unavailable: 'Right now no front window is visible to the agent; when one is, its application name and how long it stays in front are recorded.',
    },
    defaultLegalBasis: 'consent',
    defaultPurpose: 'Which application is in front and for how long, to see where team time goes.',
    onDeviceTransform: () => 'consecutive samples of the same application merged into one span',
  },
  idle: {
    spanField: 'idle',
    fieldsCollected: ['idle', 'start', 'durationMs'],
    piiCategories: ['presence (idle / active)'],
    label: 'Active or idle',
    employeeLabel: 'When you are away from the keyboard',
    inSentence: 'active and idle time',
    example: {
      live: 'Right now your last keyboard or mouse input was {seconds} seconds ago; only that you were away, and for how long, is recorded.',
      unavailable: 'This computer does not report idle time to the agent right now.',
    },
    defaultLegalBasis: 'consent',
    defaultPurpose: 'Whether the computer is idle (from the operating system idle timer only), to separate active from away time.',
    onDeviceTransform: () => 'operating-system idle timer only; no keystrokes or mouse counts',
  },
  window_titles: {
    spanField: 'title',
    fieldsCollected: ['title'],
    piiCategories: ['window titles'],
    label: 'Window titles',
    employeeLabel: 'Window titles',
    inSentence: 'window titles',
    example: {
      live: 'Right now this would record "{title}" for {app}.',
      unavailable: 'Right now no window title is visible to the agent.',
    },
    defaultLegalBasis: 'consent',
    // Titles say most about a person; an org asks for them deliberately, never by default.
    defaultPurpose: null,
    onDeviceTransform: (mode) =>
      mode === 'full' ? 'sent as shown' : mode === 'redacted' ? 'redacted on the device by the policy rules' : 'SHA-256 hash made on the device',
  },
} as const satisfies Record<Scope, ScopeInfo>;

/** The registry entry of a scope, typed as the general shape (so callers need not narrow literals). */
export function scopeInfo(scope: Scope): ScopeInfo {
  return SCOPES[scope];
}

/** A table with one entry per scope, e.g. a count of each; the one place such a table is spelled out. */
export function perScope<T>(value: (scope: Scope) => T): Record<Scope, T> {
  return { app_usage: value('app_usage'), idle: value('idle'), window_titles: value('window_titles') };
}

/** The scopes a span's fields need, in registry order. */
export function scopesOfSpan(span: SpanScopeFields): Scope[] {
  return ALL_SCOPES.filter((scope) => {
    const value = span[SCOPES[scope].spanField];
    return value !== undefined && value !== false;
  });
}
