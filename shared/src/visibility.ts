import type { PolicyContent } from './policy';
import type { Scope, TitleMode } from './scopes';

/**
 * Who sees what, in one place: the agent's consent dialog, the public policy page and the
 * policy editor's preview all write these sentences from the policy's settings, so the dialog's
 * list can never say something the settings do not. The free-text purpose is the admin's; the
 * editor checks it against the same settings (`purposeConflicts`) and warns before publishing.
 */
export interface VisibilitySettings {
  managersSeeIndividuals: boolean;
  minGroupSize: number;
  titleMode: TitleMode;
  /** The scopes the policy asks for. */
  scopes: readonly Scope[];
}

export function visibilityOf(content: PolicyContent): VisibilitySettings {
  return {
    managersSeeIndividuals: content.managersSeeIndividuals,
    minGroupSize: content.minGroupSize,
    titleMode: content.titleMode,
    scopes: content.scopes.map((s) => s.scope),
  };
}

/** The one sentence on what managers see: the dialog's list and the policy page use it. */
export function managersSentence(s: Pick<VisibilitySettings, 'managersSeeIndividuals' | 'minGroupSize'>): string {
  return s.managersSeeIndividuals
    ? `Managers can see individual records of the people in their own teams who agreed; teams appear as totals of at least ${s.minGroupSize} people.`
    : `Managers see team totals of at least ${s.minGroupSize} people only, never yours alone.`;
}

/** What a manager of the person's team will see about them, line by line. */
export function managerPreview(s: VisibilitySettings): string[] {
  const titles = s.scopes.includes('window_titles')
    ? s.titleMode === 'full'
      ? 'window titles as typed'
      : s.titleMode === 'redacted'
        ? 'window titles with the redaction rules applied'
        : 'no readable window titles (they are hashed on the device)'
    : 'no window titles';
  const apps = s.scopes.includes('app_usage') ? 'time per app and category' : 'no app names';
  const idle = s.scopes.includes('idle') ? 'active and idle time' : 'no idle time';
  if (!s.managersSeeIndividuals) {
    return [
      `Your team's totals only, and only when at least ${s.minGroupSize} people are in the figure: ${apps}, ${idle}.`,
      'Nothing that is yours alone: no list of your days, apps or titles.',
    ];
  }
  return [
    `If you agree: your own days with ${apps}, ${idle}, and ${titles}.`,
    `If you do not agree: only your team's totals, when at least ${s.minGroupSize} people are in the figure.`,
  ];
}

export interface PurposeConflict {
  /** The field whose text reads differently from the settings: `purpose` or `scopes.<scope>.purpose`. */
  field: string;
  problem: string;
}

// Wording that promises only group figures, and wording that announces per-person views.
const ONLY_GROUPS =
  /\b(aggregates?|aggregated|team totals|totals only|only totals|anonymi[sz]ed|no individual|never (see )?(an )?individual|not (see )?(an )?individual)/i;
const PER_PERSON = /\b(individual (records?|data|activity|reports?|figures?|views?)|per[- ]person|each (employee|person)'s)/i;
const NO_TITLES = /\b(no window titles|titles are (not|never) (recorded|collected|sent)|without (window )?titles)\b/i;

/**
 * Where the admin's text contradicts the settings the dialog lists. Empty when the purpose and
 * the "who sees what" list read the same way.
 */
export function purposeConflicts(content: PolicyContent): PurposeConflict[] {
  const texts = [{ field: 'purpose', text: content.purpose }, ...content.scopes.map((s) => ({ field: `scopes.${s.scope}.purpose`, text: s.purpose }))];
  const conflicts: PurposeConflict[] = [];
  for (const { field, text } of texts) {
    if (content.managersSeeIndividuals && ONLY_GROUPS.test(text)) {
      conflicts.push({
        field,
        problem: 'says reports show only team totals, but "Managers may see individuals" is on: people would read both in the same dialog',
      });
    } else if (!content.managersSeeIndividuals && PER_PERSON.test(text) && !ONLY_GROUPS.test(text)) {
      conflicts.push({ field, problem: 'speaks of individual records, but "Managers may see individuals" is off: managers see team totals only' });
    }
    if (content.scopes.some((s) => s.scope === 'window_titles') && NO_TITLES.test(text)) {
      conflicts.push({ field, problem: 'says no window titles are recorded, but the policy asks for window titles' });
    }
  }
  return conflicts;
}
