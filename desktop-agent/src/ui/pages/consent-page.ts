import { managerPreview, managersSentence, receiptFacts, type ConsentView, type NoticeView, type ReceiptView, type Scope } from '@icarus/shared';
import { announcer, button, errorText, h, localDateTime } from './dom';
import { common, consentText as t, format } from './strings';

function receiptCard(view: ReceiptView, heading: string): HTMLElement {
  const p = view.receipt.payload;
  const facts = receiptFacts(p);
  return h(
    'section',
    { class: 'receipt', 'aria-labelledby': `receipt-${facts.receiptId}` },
    h('h2', { id: `receipt-${facts.receiptId}` }, heading),
    h('p', {}, t.receiptIntro),
    h('p', { class: view.verified ? 'ok' : 'warn' }, view.verified ? t.receiptVerified : t.receiptUnverified),
    h(
      'dl',
      {},
      h('dt', {}, t.receiptId),
      h('dd', {}, facts.receiptId),
      h('dt', {}, t.receiptTime),
      h('dd', {}, localDateTime(facts.consentAt)),
      h('dt', {}, t.receiptGranted),
      h('dd', {}, p.scopesGranted.map((s) => t.scopeNames[s] ?? s).join(', ') || common.none),
      h('dt', {}, t.receiptPolicyHash),
      h('dd', { class: 'mono' }, p.policy.hash),
    ),
    h('details', {}, h('summary', {}, 'JWS'), h('pre', { class: 'mono' }, view.receipt.jws)),
  );
}

function scopeFieldset(scope: ConsentView['scopes'][number]): HTMLFieldSetElement {
  const name = t.scopeNames[scope.scope] ?? scope.scope;
  const id = `scope-${scope.scope}`;
  // Pre-select only a standing grant the person already gave; a first decision starts unset.
  const current = scope.needsDecision ? undefined : scope.granted ? 'grant' : 'decline';
  const radio = (value: 'grant' | 'decline', label: string) =>
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: id, value, required: true, checked: current === value }), ` ${label}`);
  return h(
    'fieldset',
    { class: 'scope', 'data-scope': scope.scope, 'aria-describedby': `${id}-purpose ${id}-example` },
    h('legend', {}, format(t.decisionLegend, { scope: name })),
    scope.needsDecision && scope.granted ? h('p', { class: 'warn' }, t.needsDecision) : null,
    h('p', { id: `${id}-purpose` }, scope.purpose, ' ', h('span', { class: 'basis' }, t.basis[scope.legalBasis] ?? '')),
    h('p', { id: `${id}-example`, class: 'example' }, h('strong', {}, `${t.exampleLabel}: `), scope.example),
    h('div', { class: 'choices' }, radio('grant', t.grant), radio('decline', t.decline)),
  );
}

/** Re-asked after a policy change: what changed, the changes that ask more of the person first and marked. */
function changesSection(changes: NonNullable<ConsentView['changes']>): HTMLElement {
  const ordered = [...changes.filter((c) => c.widens), ...changes.filter((c) => !c.widens)];
  return h(
    'section',
    { class: 'changes', 'aria-labelledby': 'changes-heading' },
    h('h3', { id: 'changes-heading' }, t.changesHeading),
    h('p', {}, t.changesIntro),
    h(
      'ul',
      { 'aria-labelledby': 'changes-heading' },
      ...ordered.map((c) =>
        h(
          'li',
          { class: c.widens ? 'change widens' : 'change', 'data-field': c.field },
          h('strong', { class: c.widens ? 'warn' : undefined }, `${c.widens ? t.changeWidens : t.changeOther}: `),
          c.summary,
        ),
      ),
    ),
  );
}

/** Whose consent this is, said before anything is asked. */
function bindingSection(view: ConsentView): HTMLElement {
  const section = h('section', { class: 'binding', 'aria-labelledby': 'binding-heading' }, h('h2', { id: 'binding-heading' }, t.bindingHeading));
  if (view.boundTo === undefined) section.append(h('p', {}, t.bindingUnknown));
  else if (view.boundTo) section.append(h('p', { id: 'bound-to' }, format(t.boundTo, { name: view.boundTo.name, email: view.boundTo.email })));
  else section.append(h('p', { id: 'bound-to', class: 'warn' }, format(t.unbound, { osUser: view.osUser })));
  return section;
}

/** The pairing-code field: right under the binding while unbound, at the end to pair again. */
function pairForm(onPair: (code: string) => Promise<void>): HTMLFormElement {
  const input = h('input', { id: 'pairing-code', name: 'code', autocomplete: 'off', spellcheck: 'false', maxlength: '64' });
  const form = h(
    'form',
    { 'aria-label': t.pairButton },
    h('label', { for: 'pairing-code' }, t.pairLabel),
    input,
    h('button', { type: 'submit' }, t.pairButton),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void onPair(input.value);
  });
  return form;
}

/**
 * The employee notice of the version in force: open and with its button until the person
 * acknowledges it, then folded with the date. Shown before the decision, whatever that is.
 */
function noticeSection(view: NoticeView, onAcknowledge: (version: number, hash: string) => Promise<string | undefined>): HTMLElement {
  const notice = view.notice;
  if (!notice) return h('p', { class: 'notice-unavailable' }, format(t.noticeUnavailable, { reason: view.reason ?? '' }));
  const acknowledged = (at: string) =>
    h('p', { class: 'ok', id: 'notice-acknowledged' }, format(t.noticeAcknowledged, { version: String(notice.version), when: localDateTime(at) }));
  const details = h(
    'details',
    { class: 'employee-notice', open: notice.acknowledgedAt === null },
    h('summary', {}, format(t.noticeHeading, { version: String(notice.version) })),
    h('p', {}, t.noticeIntro),
    h('h3', {}, notice.title),
    ...notice.sections.flatMap((section) => [h('h4', {}, section.title), ...section.paragraphs.map((p) => h('p', {}, p))]),
  );
  const section = h('section', { class: 'notice-section', 'aria-label': format(t.noticeHeading, { version: String(notice.version) }) }, details);
  if (notice.acknowledgedAt) section.append(acknowledged(notice.acknowledgedAt));
  else {
    const ack = button(t.noticeAcknowledge, async () => {
      const at = await onAcknowledge(notice.version, notice.hash);
      if (at) {
        ack.replaceWith(acknowledged(at));
        details.open = false;
      }
    });
    section.append(ack);
  }
  return section;
}

export async function renderConsent(root: HTMLElement): Promise<void> {
  const api = window.icarus;
  const note = announcer();
  const view = await api.consent();
  const pair = async (code: string) => {
    try {
      await api.pair(code);
      // Drawn again: now it names the person, and asks them (and only them) to decide.
      await renderConsent(root);
    } catch (error) {
      note.say(common.errorPrefix + errorText(error), true);
    }
  };
  root.replaceChildren(h('h1', {}, t.title), h('p', {}, t.intro), note.el, bindingSection(view));
  if (view.boundTo === null) {
    root.append(pairForm(pair));
    return;
  }
  // The notice comes first: at consent time and whenever a new version is published.
  const acknowledge = async (version: number, hash: string) => {
    try {
      const done = await api.acknowledgeNotice(version, hash);
      note.say(format(t.noticeAcknowledged, { version: String(done.version), when: localDateTime(done.acknowledgedAt) }));
      return done.acknowledgedAt;
    } catch (error) {
      note.say(common.errorPrefix + errorText(error), true);
      return undefined;
    }
  };
  root.append(noticeSection(await api.notice(), acknowledge));
  const policy = view.policy;
  if (!policy) {
    root.append(h('p', {}, t.noPolicy));
    return;
  }
  const form = h(
    'form',
    { 'aria-labelledby': 'policy-heading', novalidate: true },
    h('h2', { id: 'policy-heading' }, format(t.policyHeading, { version: String(policy.version), controller: policy.controller.name })),
    view.decisionNeeded && view.changes && view.changes.length > 0 ? changesSection(view.changes) : null,
    h('h3', {}, t.purposeHeading),
    h('p', {}, policy.purpose),
    h('h3', {}, t.scopesHeading),
    ...view.scopes.map(scopeFieldset),
    h('h3', {}, t.whoSees),
    h(
      'ul',
      {},
      h('li', {}, format(t.titleMode, { text: policy.titleModeText })),
      h('li', {}, format(t.retention, { days: String(policy.retentionDays) })),
      h('li', {}, managersSentence(policy)),
      h('li', {}, format(t.minGroup, { n: String(policy.minGroupSize) })),
      h('li', {}, policy.reviewBeforeSendMinutes > 0 ? format(t.review, { minutes: String(policy.reviewBeforeSendMinutes) }) : t.noReview),
      h('li', {}, format(t.controllerContact, { contact: policy.controller.contact })),
    ),
    h('h3', {}, t.managerPreviewHeading),
    h('ul', { class: 'manager-preview' }, ...managerPreview({ ...policy, scopes: view.scopes.map((s) => s.scope) }).map((line) => h('li', {}, line))),
    h('p', {}, h('a', { href: policy.url, target: '_blank', rel: 'noopener' }, t.policyLink)),
    h('button', { type: 'submit' }, t.submit),
  );
  root.append(form);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const granted: Scope[] = [];
      for (const scope of view.scopes) {
        const chosen = form.querySelector<HTMLInputElement>(`input[name="scope-${scope.scope}"]:checked`);
        if (!chosen) {
          note.say(format(t.decisionLegend, { scope: t.scopeNames[scope.scope] ?? scope.scope }), true);
          form.querySelector<HTMLInputElement>(`input[name="scope-${scope.scope}"]`)?.focus();
          return;
        }
        if (chosen.value === 'grant') granted.push(scope.scope);
      }
      note.say(t.sending);
      try {
        const receipt = await api.decide(policy.version, granted);
        const card = receiptCard(receipt, t.receiptHeading);
        form.replaceWith(card);
        card.querySelector('h2')?.setAttribute('tabindex', '-1');
        card.querySelector<HTMLElement>('h2')?.focus();
        note.say(t.receiptVerified.length > 0 ? t.receiptHeading : '');
      } catch (error) {
        note.say(common.errorPrefix + errorText(error), true);
      }
    })();
  });

  // Pairing again (from the right account) comes after the decision, out of its keyboard path.
  if (view.boundTo) root.append(pairForm(pair));
  const { receipts } = await api.receipts();
  if (receipts.length > 0) {
    root.append(h('h2', {}, t.receiptsHeading), ...receipts.slice(0, 5).map((r) => receiptCard(r, localDateTime(receiptFacts(r.receipt.payload).consentAt))));
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'withdraw-heading' },
        h('h2', { id: 'withdraw-heading' }, t.withdrawHeading),
        h('p', {}, t.withdrawIntro),
        button(
          t.withdrawAll,
          async () => {
            try {
              const receipt = await api.withdraw([]);
              note.say(`${t.receiptHeading}: ${receiptFacts(receipt.receipt.payload).receiptId}`);
            } catch (error) {
              note.say(common.errorPrefix + errorText(error), true);
            }
          },
          { class: 'danger' },
        ),
      ),
    );
  }
}
