import type { ImportGrant, ImportPlanView, Scope } from '@icarus/shared';
import { announcer, button, duration, h, localDateTime } from './dom';
import { common, consentText, format, importsText as t } from './strings';

const day = (iso: string) => new Date(iso).toLocaleDateString([], { dateStyle: 'medium' });

/** A term and its value in a description list. */
const row = (term: string, ...value: (Node | string)[]) => [h('dt', {}, term), h('dd', {}, ...value)];

function previewList(plan: ImportPlanView): HTMLElement {
  const p = plan.preview;
  return h(
    'dl',
    { class: 'facts' },
    ...row(t.period, format(t.periodValue, { from: localDateTime(plan.from), to: localDateTime(plan.to) })),
    ...row(t.time, format(t.timeValue, { active: duration(p.activeMs), idle: duration(p.idleMs), spans: String(p.spans) })),
    ...row(t.apps, String(p.apps)),
    ...row(t.titles, p.titles ? t.titlesIncluded : t.titlesLeftOut),
    ...row(t.scopes, plan.scopes.map((s) => consentText.scopeNames[s]).join(', ')),
    ...row(t.retention, format(t.retentionValue, { days: String(plan.retentionDays), from: day(plan.keptFrom) })),
    ...row(
      t.leftOut,
      plan.skipped.length === 0
        ? t.leftOutNone
        : h(
            'ul',
            {},
            ...plan.skipped.map((s) =>
              h('li', {}, format(s.count === 1 ? t.leftOutOne : t.leftOutMany, { time: duration(s.ms), count: String(s.count), reason: s.reason })),
            ),
          ),
    ),
  );
}

function grantItem(g: ImportGrant, withdraw: (g: ImportGrant) => Promise<void>): HTMLElement {
  const period = format(t.periodValue, { from: localDateTime(g.from), to: localDateTime(g.to) });
  return h(
    'li',
    { class: 'import' },
    h('p', {}, h('strong', {}, period)),
    h(
      'p',
      {},
      format(t.grantFacts, {
        spans: String(g.preview.spans),
        active: duration(g.preview.activeMs),
        scopes: g.scopes.map((s) => consentText.scopeNames[s]).join(', '),
        at: localDateTime(g.decidedAt),
      }),
    ),
    g.withdrawnAt === null
      ? button(format(t.withdraw, { period }), () => withdraw(g), { class: 'danger' })
      : h('p', {}, format(t.withdrawnOn, { at: localDateTime(g.withdrawnAt) })),
  );
}

/**
 * Imports of ActivityWatch history: the person names their export, reads what would be uploaded,
 * and decides; below, the imports they made, each withdrawable (its history is then erased on
 * the server and on this computer).
 */
export async function renderImports(root: HTMLElement): Promise<void> {
  const api = window.icarus;
  const note = announcer(common.errorPrefix);
  const { attempt } = note;

  const consent = await api.consent();
  const offered = consent.scopes.map((s) => s.scope);
  const pathInput = h('input', {
    id: 'import-path',
    name: 'path',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'import-path-hint',
  });
  const scopeBoxes = offered.map((scope) => {
    const granted = consent.scopes.find((s) => s.scope === scope)?.granted ?? false;
    return h('input', { type: 'checkbox', name: 'scope', value: scope, id: `scope-${scope}`, checked: granted });
  });
  const previewArea = h('section', { 'aria-labelledby': 'preview-heading', id: 'preview', hidden: true });
  const list = h('section', { 'aria-labelledby': 'imports-list-heading' });

  const chosenScopes = (): Scope[] | undefined => {
    const picked = scopeBoxes.filter((b) => b.checked).map((b) => b.value as Scope);
    return picked.length > 0 ? picked : undefined;
  };

  const pathHint = h('p', { id: 'import-path-hint', class: 'hint' }, t.pathHint);
  // The system's file dialog where the shell has one (the tray app); a browser types the path.
  const chooseButton = button(
    t.chooseFile,
    attempt(async () => {
      const { path } = await api.chooseImportFile();
      if (path === null) return note.say(t.notChosen);
      pathInput.value = path;
      note.say(format(t.chosen, { path }));
    }),
    { class: 'secondary', hidden: true },
  );

  const drawList = async (): Promise<void> => {
    const { grants, fileDialog } = await api.imports();
    chooseButton.hidden = !fileDialog;
    pathHint.textContent = fileDialog ? t.chooseFileHint : t.pathHint;
    const withdraw = async (g: ImportGrant) => {
      if (!window.confirm(format(t.withdrawConfirm, { period: format(t.periodValue, { from: localDateTime(g.from), to: localDateTime(g.to) }) }))) return;
      const r = await api.withdrawImport(g.id);
      await drawList();
      note.say(
        r.erasedOnServer === null
          ? format(t.withdrawnHereOnly, { here: String(r.erasedHere) })
          : format(t.withdrawn, { server: String(r.erasedOnServer), here: String(r.erasedHere) }),
      );
    };
    list.replaceChildren(
      h('h2', { id: 'imports-list-heading' }, t.listHeading),
      grants.length === 0
        ? h('p', {}, t.listEmpty)
        : h('ul', { class: 'imports' }, ...[...grants].reverse().map((g) => grantItem(g, (x) => attempt(() => withdraw(x))()))),
    );
  };

  const showPreview = async (): Promise<void> => {
    const path = pathInput.value.trim();
    if (path === '') {
      note.say(t.pathMissing, true);
      pathInput.focus();
      return;
    }
    const scopes = chosenScopes();
    const plan = await api.importPreview(path, scopes);
    const heading = h('h2', { id: 'preview-heading', tabindex: '-1' }, t.previewHeading);
    const decided = (text: string) => {
      previewArea.hidden = true;
      previewArea.replaceChildren();
      note.say(text);
      pathInput.focus();
    };
    previewArea.replaceChildren(
      heading,
      h('p', {}, t.previewIntro),
      previewList(plan),
      plan.preview.spans === 0
        ? h('p', {}, t.nothingToImport)
        : h(
            'div',
            { class: 'row' },
            button(
              t.yes,
              attempt(async () => {
                const r = await api.importGrant({ path, shown: plan.preview, ...(scopes !== undefined && { scopes }) });
                await drawList();
                decided(format(r.verified ? t.grantedVerified : t.grantedUnverified, { n: String(r.stored) }));
              }),
            ),
            button(t.no, () => decided(t.declined)),
          ),
    );
    previewArea.hidden = false;
    heading.focus();
  };

  root.replaceChildren(
    h('h1', {}, t.title),
    note.el,
    h('p', {}, t.intro),
    h(
      'section',
      { 'aria-labelledby': 'choose-heading' },
      h('h2', { id: 'choose-heading' }, t.chooseHeading),
      h('label', { for: 'import-path' }, t.pathLabel),
      pathInput,
      chooseButton,
      pathHint,
      h(
        'fieldset',
        { class: 'scopes' },
        h('legend', {}, t.scopesLegend),
        ...scopeBoxes.map((box) => h('div', { class: 'choice' }, box, h('label', { for: box.id }, consentText.scopeNames[box.value as Scope]))),
      ),
      button(t.previewButton, attempt(showPreview)),
    ),
    previewArea,
    list,
  );
  await drawList();
}
