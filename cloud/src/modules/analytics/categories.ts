import type { RE2JS } from 're2js';
import { compileRe2, isRe2Pattern } from '../../platform/patterns';
import type { CategoryRule, Productivity } from './tables';

export interface Category {
  category: string;
  productivity: Productivity;
}

export const UNCATEGORIZED: Category = { category: 'Uncategorized', productivity: 'neutral' };
/** Spans without an app (only idle was granted) still count towards active and idle time. */
export const NO_APP = '(no app)';

/**
 * How the built-in rules decide, in the words the categories page shows: the tools in which the
 * work itself is made are productive; communication is neutral, because it is how work is
 * coordinated rather than the work, and counting it productive would let a day spent in mail read
 * as a day of focused work; meeting load is the Meetings category alone (calls, not the calendar).
 */
export const DEFAULT_RULES_RULE =
  'Built in: the tools in which the work itself is made (code, design, documents and spreadsheets, CRM, support desk, project tools) are productive. ' +
  'Communication (email, chat, calendar, calls) is neutral: it is how work is coordinated, and counting it productive would let a day in the inbox read as focused work. ' +
  'Meeting load counts the Meetings category (video calls) only; time in a calendar app is not a meeting. Browsers and file managers are neutral, games and entertainment unproductive. ' +
  'Where mail or chat is the work (a sales or support desk), add a rule of your own above: it wins over the built-in ones.';

/** Built-in rules for common applications; an org's own rules are tried first. */
export const DEFAULT_RULES: readonly CategoryRule[] = [
  {
    app: '^(code|code - oss|vscodium|cursor|idea|intellij.*|pycharm.*|webstorm|goland|clion|rider|android studio|xcode|eclipse|vim|nvim|neovim|emacs|sublime_text|sublime text|zed)$',
    category: 'Development',
    productivity: 'productive',
  },
  {
    app: '^(gnome-terminal.*|konsole|alacritty|kitty|wezterm|iterm2?|terminal|windowsterminal|windows terminal|xterm|tilix|warp|powershell|cmd)$',
    category: 'Development',
    productivity: 'productive',
  },
  { app: '^(figma|inkscape|gimp|krita|blender|photoshop|illustrator|sketch|affinity.*)$', category: 'Design', productivity: 'productive' },
  {
    app: '^(slack|microsoft teams|teams|ms-teams|discord|mattermost|element|signal|telegram.*|whatsapp|rocket\\.chat)$',
    category: 'Chat',
    productivity: 'neutral',
  },
  {
    app: '^(libreoffice.*|soffice|winword|microsoft word|excel|microsoft excel|powerpnt|microsoft powerpoint|onenote|microsoft onenote|wps office|google docs|google sheets|google slides|pages|numbers|keynote|onlyoffice.*|notion|obsidian|acrobat.*|evince|okular)$',
    category: 'Documents',
    productivity: 'productive',
  },
  // Business apps: for sales, support and operations teams these are the work itself, so they
  // count as productive (left to "Uncategorized", whole teams read as idle at their desks).
  // Mail is not among them: it is communication, neutral for every team by default.
  {
    app: '^(salesforce|salesforce.*|hubspot|hubspot.*|pipedrive|zoho crm|microsoft dynamics.*|dynamics 365.*|sugarcrm|close|copper)$',
    category: 'CRM',
    productivity: 'productive',
  },
  {
    app: '^(zendesk|zendesk.*|freshdesk|servicenow|intercom|help scout|helpscout|front|jira service management|otrs|gorgias|kustomer)$',
    category: 'Support desk',
    productivity: 'productive',
  },
  {
    app: '^(jira|jira software|confluence|asana|trello|linear|clickup|monday|monday\\.com|basecamp|wrike|smartsheet|microsoft project|azure devops)$',
    category: 'Project work',
    productivity: 'productive',
  },
  // Communication is neutral (see DEFAULT_RULES_RULE): mail, the calendar, chat and calls.
  {
    app: '^(thunderbird|outlook|microsoft outlook|new outlook|mail|apple mail|evolution|geary|mailspring|superhuman|gmail)$',
    category: 'Email',
    productivity: 'neutral',
  },
  {
    app: '^(gnome-calendar|calendar|apple calendar|ical|google calendar|outlook calendar|fantastical|busycal|korganizer)$',
    category: 'Calendar',
    productivity: 'neutral',
  },
  {
    app: '^(zoom|zoom\\.us|zoom workplace|webex|webex meetings|gotomeeting|goto meeting|skype|jitsi.*|google meet|whereby)$',
    category: 'Meetings',
    productivity: 'neutral',
  },
  {
    app: '^(firefox|firefox-esr|google-chrome|chrome|chromium|microsoft edge|msedge|safari|brave|brave-browser|opera|vivaldi)$',
    category: 'Web browsing',
    productivity: 'neutral',
  },
  { app: '^(steam|lutris|minecraft.*|solitaire|epic games launcher|battle\\.net|league of legends)$', category: 'Games', productivity: 'unproductive' },
  { app: '^(facebook|instagram|tiktok|twitter|x|reddit|youtube|netflix|spotify)$', category: 'Social & entertainment', productivity: 'unproductive' },
  { app: '^(nautilus|files|dolphin|finder|explorer|thunar|nemo)$', category: 'Files', productivity: 'neutral' },
];

interface CompiledRule extends Category {
  app: RE2JS;
  title: RE2JS | undefined;
}

/**
 * Rules are admin-written patterns run against every app name and title of every batch, so
 * they run on RE2 (linear time, no backtracking): `^(a|a)*$` against a long run of `a`s costs
 * microseconds here, where the JavaScript engine blocked the process for seconds.
 */
function re2(source: string): RE2JS {
  return compileRe2(source, true);
}

function compile(rule: CategoryRule): CompiledRule | undefined {
  try {
    return {
      app: re2(rule.app),
      title: rule.title ? re2(rule.title) : undefined,
      category: rule.category,
      productivity: rule.productivity,
    };
  } catch {
    // A rule saved before rules were checked against RE2 (a lookaround, a backreference)
    // cannot run in linear time: it matches nothing rather than risk the process.
    return undefined;
  }
}

/** True when RE2 compiles the pattern: rules are checked at the edge before they are saved. */
export function isValidPattern(source: string): boolean {
  return isRe2Pattern(source);
}

/**
 * An org's rules compiled once, then the built-in defaults. `byApp` answers for an app when
 * no title rule can apply to it, so a batch pays one evaluation per distinct app.
 */
export function createCategorizer(orgRules: readonly CategoryRule[]) {
  const rules = [...orgRules, ...DEFAULT_RULES].flatMap((rule) => compile(rule) ?? []);
  const titleRules = rules.filter((r) => r.title !== undefined);
  const appCache = new Map<string, Category>();

  function firstMatch(app: string, title: string | null): Category {
    for (const rule of rules) {
      if (!rule.app.test(app)) continue;
      if (rule.title && (title === null || !rule.title.test(title))) continue;
      return { category: rule.category, productivity: rule.productivity };
    }
    return UNCATEGORIZED;
  }

  return {
    hasTitleRules: titleRules.length > 0,
    /** Whether a title could change this app's category (then titles must be looked at). */
    dependsOnTitle(app: string): boolean {
      return titleRules.some((r) => r.app.test(app));
    },
    of(app: string | null, title: string | null = null): Category {
      const name = app ?? NO_APP;
      if (title !== null && titleRules.some((r) => r.app.test(name))) return firstMatch(name, title);
      let found = appCache.get(name);
      if (!found) {
        found = firstMatch(name, null);
        appCache.set(name, found);
      }
      return found;
    },
  };
}
export type Categorizer = ReturnType<typeof createCategorizer>;
