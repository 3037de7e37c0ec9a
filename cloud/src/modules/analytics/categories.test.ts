import { describe, expect, it } from 'vitest';
import { createCategorizer, isValidPattern, UNCATEGORIZED } from './categories';

describe('category rules run in linear time', () => {
  const rule = { app: '^(a|a)*$', category: 'Letters', productivity: 'neutral' as const };

  it('answers at once for the rule ^(a|a)*$ and 26 a’s and a !, which backtracked for seconds', () => {
    const categorizer = createCategorizer([rule]);
    const started = performance.now();
    expect(categorizer.of(`${'a'.repeat(26)}!`)).toEqual(UNCATEGORIZED);
    expect(categorizer.of(`${'a'.repeat(255)}!`)).toEqual(UNCATEGORIZED);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(categorizer.of('aaaa')).toEqual({ category: 'Letters', productivity: 'neutral' });
  });

  it('still matches case-insensitively anywhere in the name, as rules always did', () => {
    const categorizer = createCategorizer([{ app: 'term', category: 'Shell', productivity: 'productive' }]);
    expect(categorizer.of('GNOME-Terminal').category).toBe('Shell');
  });

  it('refuses at save time what RE2 cannot run, and skips such a rule saved before', () => {
    expect(isValidPattern('(?<=x)y')).toBe(false);
    expect(isValidPattern('(a)\\1')).toBe(false);
    expect(isValidPattern('^(a|a)*$')).toBe(true);
    const categorizer = createCategorizer([{ app: '(?<=x)y', category: 'Old', productivity: 'neutral' }]);
    expect(categorizer.of('xy').category).not.toBe('Old');
  });
});

describe('the built-in rules', () => {
  const categorizer = createCategorizer([]);

  it.each([
    ['Salesforce', 'CRM'],
    ['HubSpot', 'CRM'],
    ['Zendesk', 'Support desk'],
    ['Jira', 'Project work'],
    ['Microsoft Excel', 'Documents'],
    ['Microsoft Word', 'Documents'],
    ['LibreOffice-writer', 'Documents'],
  ])('count the business app %s as %s, productive: sales and support teams are not all "neutral"', (app, category) => {
    expect(categorizer.of(app)).toEqual({ category, productivity: 'productive' });
  });

  it.each([
    ['Microsoft Outlook', 'Email'],
    ['thunderbird', 'Email'],
    ['gnome-calendar', 'Calendar'],
    ['Slack', 'Chat'],
    ['zoom', 'Meetings'],
  ])('count communication (%s, %s) as neutral: a day in the inbox is not a day of focused work', (app, category) => {
    expect(categorizer.of(app)).toEqual({ category, productivity: 'neutral' });
  });

  it('count only calls as meetings, not the calendar: meeting load is the Meetings category', () => {
    expect(categorizer.of('Google Calendar').category).not.toBe('Meetings');
    expect(categorizer.of('Webex Meetings').category).toBe('Meetings');
  });

  it('leave chat, meetings and browsers neutral and unknown apps uncategorized', () => {
    expect(categorizer.of('Slack').productivity).toBe('neutral');
    expect(categorizer.of('zoom')).toEqual({ category: 'Meetings', productivity: 'neutral' });
    expect(categorizer.of('Google-chrome').productivity).toBe('neutral');
    expect(categorizer.of('mystery-tool')).toEqual(UNCATEGORIZED);
  });
});
