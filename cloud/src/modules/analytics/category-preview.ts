import { addDays } from '@icarus/shared';
import { compileRe2 } from '../../platform/patterns';
import { createCategorizer } from './categories';
import type { AppTime } from './categories-store';
import type { CategoryRule } from './tables';

/** Days of rollups a preview reads: four weeks, what most teams look at. */
export const PREVIEW_DAYS = 28;

export interface AppMove {
  app: string;
  from: string;
  to: string;
  activeMs: number;
}

export interface RulePreview {
  /** 1-based position of the rule in the proposed list; null for moves back to the built-in rules. */
  rule: number | null;
  moves: AppMove[];
  activeMs: number;
  /** The rule also looks at window titles: the preview matches app names only. */
  titleDependent: boolean;
}

export interface CategoryPreview {
  from: string;
  to: string;
  rules: RulePreview[];
  movedMs: number;
  totalMs: number;
}

/**
 * What a proposed set of rules would change, rule by rule: each app of the org's recent
 * rollups whose category would differ from the one it is filed under now, with its time.
 * Each move is credited to the first proposed rule matching the app (the one that decides it),
 * or to the built-in rules when no org rule matches any more.
 */
export function previewRules(proposed: readonly CategoryRule[], apps: readonly AppTime[], range: { from: string; to: string }): CategoryPreview {
  const categorizer = createCategorizer(proposed);
  const compiled = proposed.map((r) => {
    try {
      return compileRe2(r.app, true);
    } catch {
      return undefined;
    }
  });
  const byRule = new Map<number | null, RulePreview>();
  let movedMs = 0;
  for (const a of apps) {
    const next = categorizer.of(a.app);
    if (next.category === a.category && next.productivity === a.productivity) continue;
    const index = compiled.findIndex((re) => re?.test(a.app) === true);
    const rule = index >= 0 ? index + 1 : null;
    const entry = byRule.get(rule) ?? { rule, moves: [], activeMs: 0, titleDependent: index >= 0 && proposed[index]?.title !== undefined };
    entry.moves.push({ app: a.app, from: a.category, to: next.category, activeMs: a.activeMs });
    entry.activeMs += a.activeMs;
    movedMs += a.activeMs;
    byRule.set(rule, entry);
  }
  const rules = [...byRule.values()].sort((x, y) => (x.rule ?? Infinity) - (y.rule ?? Infinity));
  for (const r of rules) r.moves.sort((x, y) => y.activeMs - x.activeMs);
  return { ...range, rules, movedMs, totalMs: apps.reduce((sum, a) => sum + a.activeMs, 0) };
}

export function previewRange(today: string): { from: string; to: string } {
  return { from: addDays(today, -(PREVIEW_DAYS - 1)), to: today };
}
