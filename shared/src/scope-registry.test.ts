import { describe, expect, it } from 'vitest';
import { perScope, scopeInfo, scopesOfSpan, SCOPES, type SpanScopeFields } from './scope-registry';
import { ALL_SCOPES, LegalBasis, Scope, TitleMode } from './scopes';
import { Span } from './span';

const TEXT_FIELDS = ['label', 'employeeLabel', 'inSentence'] as const;

describe('scope registry', () => {
  it('has an entry for exactly the scopes of the wire schema', () => {
    expect(Object.keys(SCOPES).sort()).toEqual([...Scope.options].sort());
  });

  describe.each(ALL_SCOPES)('%s', (scope) => {
    const info = scopeInfo(scope);

    it.each(TEXT_FIELDS)('has a %s', (field) => {
      expect(info[field].trim()).not.toBe('');
    });

    it('lists the fields a receipt names as collected, and its PII categories', () => {
      expect(info.fieldsCollected.length).toBeGreaterThan(0);
      expect(info.fieldsCollected).toContain(info.spanField);
      expect(info.piiCategories.length).toBeGreaterThan(0);
    });

    it('carries its data in a field of the span schema, and collects only span fields', () => {
      const spanFields = Object.keys(Span.shape);
      expect(spanFields).toContain(info.spanField);
      for (const field of info.fieldsCollected) expect(spanFields).toContain(field);
    });

    it('has an example for when the agent sees something and for when it does not', () => {
      expect(info.example.live).toMatch(/\{\w+\}/);
      expect(info.example.unavailable.trim()).not.toBe('');
      expect(info.example.unavailable).not.toMatch(/\{\w+\}/);
    });

    it('proposes a legal basis and, when in the default policy, a purpose', () => {
      expect(LegalBasis.options).toContain(info.defaultLegalBasis);
      if (info.defaultPurpose !== null) expect(info.defaultPurpose.trim()).not.toBe('');
    });

    it.each(TitleMode.options)('states its on-device transform for title mode %s', (mode) => {
      expect(info.onDeviceTransform(mode).trim()).not.toBe('');
    });
  });

  it('gives each scope its own span field, so a field never needs two scopes', () => {
    const fields = ALL_SCOPES.map((s) => SCOPES[s].spanField);
    expect(new Set(fields).size).toBe(fields.length);
  });

  it('leaves window titles out of the default policy', () => {
    expect(SCOPES.window_titles.defaultPurpose).toBeNull();
    expect(ALL_SCOPES.filter((s) => SCOPES[s].defaultPurpose !== null)).toEqual(['app_usage', 'idle']);
  });

  it('builds a table with one entry per scope', () => {
    expect(perScope((s) => s.length)).toEqual({ app_usage: 9, idle: 4, window_titles: 13 });
  });
});

describe('scopesOfSpan', () => {
  const cases: [string, SpanScopeFields, Scope[]][] = [
    ['an app span', { app: 'Firefox' }, ['app_usage']],
    ['an app span with an empty-string app', { app: '' }, ['app_usage']],
    ['an app span with a title', { app: 'Firefox', title: 'Inbox' }, ['app_usage', 'window_titles']],
    ['an app span with a hashed empty title', { app: 'Firefox', title: '' }, ['app_usage', 'window_titles']],
    ['an idle span', { idle: true }, ['idle']],
    ['a span marked not idle', { app: 'Firefox', idle: false }, ['app_usage']],
    ['a span with nothing', {}, []],
  ];
  it.each(cases)('%s needs %j', (_name, span, scopes) => {
    expect(scopesOfSpan(span)).toEqual(scopes);
  });

  it.each(ALL_SCOPES)('maps the span field of %s to that scope alone', (scope) => {
    const field = SCOPES[scope].spanField;
    const span: SpanScopeFields = field === 'idle' ? { idle: true } : { [field]: 'x' };
    expect(scopesOfSpan(span)).toEqual([scope]);
  });
});
