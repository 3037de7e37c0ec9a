import type { MyDataView, SpanView } from '@icarus/shared';
import { announcer, button, duration, h, localDateTime, localTime } from './dom';
import { common, format, myDataText as t, statusText } from './strings';

/** Pending spans that have not started leaving the device can still be deleted. */
const pauseLabel = { '15m': statusText.pause15, '1h': statusText.pause60, tomorrow: statusText.pauseTomorrow } as const;

const deletable = (s: SpanView) => s.status === 'held_for_review' || s.status === 'pending';

function timelineTable(view: MyDataView): HTMLTableElement {
  const c = t.columns;
  return h(
    'table',
    { 'aria-labelledby': 'timeline-heading' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t.deleteSelected)),
        h('th', { scope: 'col' }, c.start),
        h('th', { scope: 'col' }, c.duration),
        h('th', { scope: 'col' }, c.app),
        h('th', { scope: 'col' }, c.title),
        h('th', { scope: 'col' }, c.status),
      ),
    ),
    h(
      'tbody',
      {},
      ...view.timeline.map((s) => {
        const label = format(t.selectSpan, { app: s.app ?? t.idleRow, start: localTime(s.start) });
        return h(
          'tr',
          { class: s.idle ? 'idle' : '' },
          h('td', {}, deletable(s) ? h('input', { type: 'checkbox', name: 'span', value: s.id, 'aria-label': label }) : ''),
          h('td', {}, localTime(s.start)),
          h('td', {}, duration(s.durationMs)),
          h('td', {}, s.idle ? t.idleRow : (s.app ?? '')),
          h('td', { class: 'title' }, s.title ?? ''),
          h('td', {}, t.statuses[s.status] ?? s.status),
        );
      }),
    ),
  );
}

function download(filename: string, mimeType: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: mimeType }));
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function renderMyData(root: HTMLElement): Promise<void> {
  const api = window.icarus;
  const note = announcer(common.errorPrefix);
  const { attempt } = note;

  const draw = async (): Promise<void> => {
    const [view, viewers] = await Promise.all([api.myDataDay(), api.viewers()]);
    const k = view.counts;
    const reviewSection = h(
      'section',
      { 'aria-labelledby': 'review-heading' },
      h('h2', { id: 'review-heading' }, t.reviewHeading),
      h('p', {}, view.reviewBeforeSendMinutes > 0 ? format(t.reviewIntro, { minutes: String(view.reviewBeforeSendMinutes) }) : t.reviewOff),
      button(
        t.deleteSelected,
        attempt(async () => {
          const ids = [...root.querySelectorAll<HTMLInputElement>('input[name="span"]:checked')].map((i) => i.value);
          if (ids.length === 0) return;
          const { deleted } = await api.forget(ids);
          await draw();
          note.say(format(t.deleted, { n: String(deleted) }));
        }),
      ),
    );
    root.replaceChildren(
      h('h1', {}, t.title),
      note.el,
      h(
        'section',
        { 'aria-labelledby': 'counts-heading' },
        h('h2', { id: 'counts-heading' }, t.countsHeading),
        h('p', {}, format(t.counts, { sent: String(k.sent), pending: String(k.pending), held: String(k.heldForReview), rejected: String(k.rejected) })),
      ),
      h(
        'section',
        { 'aria-labelledby': 'totals-heading' },
        h('h2', { id: 'totals-heading' }, t.totalsHeading),
        view.totals.length === 0
          ? h('p', {}, t.empty)
          : h(
              'table',
              { 'aria-labelledby': 'totals-heading' },
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.columns.app), h('th', { scope: 'col' }, t.columns.duration))),
              h('tbody', {}, ...view.totals.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.app), h('td', {}, duration(r.activeMs))))),
            ),
        h('p', {}, format(t.idleTotal, { time: duration(view.idleMs) })),
      ),
      h(
        'section',
        { 'aria-labelledby': 'timeline-heading' },
        h('h2', { id: 'timeline-heading' }, `${t.timelineHeading} (${view.day})`),
        view.timeline.length === 0 ? h('p', {}, t.empty) : timelineTable(view),
      ),
      reviewSection,
      h(
        'section',
        { 'aria-labelledby': 'viewers-heading' },
        h('h2', { id: 'viewers-heading' }, t.viewersHeading),
        !viewers.available
          ? h('p', {}, viewers.reason ?? '')
          : viewers.entries.length === 0
            ? h('p', {}, t.viewersEmpty)
            : h('ul', {}, ...viewers.entries.map((v) => h('li', {}, `${localDateTime(v.at)}: ${v.actor} (${v.role}) ${v.what}`))),
      ),
      h(
        'section',
        { 'aria-labelledby': 'pause-heading' },
        h('h2', { id: 'pause-heading' }, t.pauseHeading),
        h(
          'div',
          { class: 'row' },
          ...(['15m', '1h', 'tomorrow'] as const).map((preset) =>
            button(
              pauseLabel[preset],
              attempt(async () => {
                const s = await api.pause(preset);
                note.say(format(statusText.pausedUntil, { until: s.pausedUntil ? localDateTime(s.pausedUntil) : '' }));
              }),
            ),
          ),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'export-heading' },
        h('h2', { id: 'export-heading' }, t.exportHeading),
        h(
          'div',
          { class: 'row' },
          button(
            t.exportJson,
            attempt(async () => {
              const f = await api.exportData('json');
              download(f.filename, f.mimeType, f.content);
            }),
          ),
          button(
            t.exportCsv,
            attempt(async () => {
              const f = await api.exportData('csv');
              download(f.filename, f.mimeType, f.content);
            }),
          ),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'erase-heading' },
        h('h2', { id: 'erase-heading' }, t.eraseHeading),
        h('p', {}, t.eraseIntro),
        button(
          t.eraseButton,
          attempt(async () => {
            if (!window.confirm(t.eraseConfirm)) return;
            const r = await api.requestErasure();
            note.say(r.available && r.requestedAt ? format(t.eraseDone, { at: localDateTime(r.requestedAt) }) : (r.reason ?? ''), !r.available);
          }),
          { class: 'danger' },
        ),
        ' ',
        h('a', { href: 'consent.html' }, t.withdrawLink),
      ),
      h(
        'section',
        { 'aria-labelledby': 'imports-heading' },
        h('h2', { id: 'imports-heading' }, t.importsHeading),
        h('p', {}, t.importsIntro, ' ', h('a', { href: 'imports.html' }, t.importsLink)),
      ),
    );
  };
  await draw();
}
