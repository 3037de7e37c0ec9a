import type { AgentMessage, StatusView } from '@icarus/shared';
import { announcer, button, errorText, h, localDateTime } from './dom';
import { common, consentText, format, statusText as t } from './strings';

function row(label: string, value: string | Node): HTMLElement[] {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function stateText(s: StatusView): string {
  return t.states[s.state] ?? s.state;
}

/** The organisation's messages, newest first, each dismissable once read. */
function messageList(messages: readonly AgentMessage[], dismiss: (m: AgentMessage) => void): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'messages-heading' },
    h('h2', { id: 'messages-heading' }, t.messagesHeading),
    messages.length === 0
      ? h('p', {}, t.messagesNone)
      : h(
          'ul',
          { class: 'messages' },
          ...messages.map((m) =>
            h(
              'li',
              {},
              h('p', {}, m.text),
              h('p', { class: 'hint' }, format(t.messageReceived, { at: localDateTime(m.receivedAt) })),
              button(format(t.dismiss, { text: m.text.length > 60 ? `${m.text.slice(0, 57)}…` : m.text }), () => dismiss(m), { class: 'secondary' }),
            ),
          ),
        ),
  );
}

export async function renderStatus(root: HTMLElement): Promise<void> {
  const api = window.icarus;
  const note = announcer();
  const inbox = h('div', {});
  const drawMessages = (messages: readonly AgentMessage[]): void => {
    inbox.replaceChildren(
      messageList(messages, async (m) => {
        try {
          drawMessages((await api.dismissMessage(m.id)).messages);
          note.say(t.dismissed);
        } catch (error) {
          // The list is drawn again before the refusal is announced, so what is heard matches what is shown.
          const refusal = common.errorPrefix + errorText(error);
          await api.messages().then(
            (fresh) => drawMessages(fresh.messages),
            () => undefined,
          );
          note.say(refusal, true);
        }
      }),
    );
  };
  const draw = (s: StatusView): void => {
    const act = (work: () => Promise<StatusView>) => async () => {
      try {
        draw(await work());
        note.say(stateText(await api.status()));
      } catch (error) {
        note.say(common.errorPrefix + errorText(error), true);
      }
    };
    root.replaceChildren(
      h('h1', {}, t.title),
      note.el,
      h('p', { class: `state state-${s.state}` }, h('strong', {}, `${t.state}: `), stateText(s)),
      h('p', {}, s.summary),
      h(
        'dl',
        {},
        ...row(t.scopes, s.scopesActive.map((x) => consentText.scopeNames[x] ?? x).join(', ') || common.none),
        ...row(t.pending, String(s.pendingSpans)),
        ...row(t.dropped, String(s.droppedSpans)),
        ...row(t.lastSync, s.lastSyncAt ? localDateTime(s.lastSyncAt) : t.never),
        ...(s.lastSyncError ? row(t.lastError, s.lastSyncError) : []),
        ...row(t.sources, h('ul', {}, ...s.captureSources.map((c) => h('li', {}, `${c.name}: ${c.ok ? t.sourceOk : (c.problem ?? '')}`)))),
        ...row(t.server, s.serverUrl ?? common.none),
        ...row(t.device, s.deviceId ?? common.none),
        ...row(t.version, s.agentVersion),
      ),
      s.state === 'revoked'
        ? h('p', { class: 'warn' }, t.revokedNote)
        : s.pausedUntil
          ? h(
              'div',
              { class: 'row' },
              h('p', {}, format(t.pausedUntil, { until: localDateTime(s.pausedUntil) })),
              button(
                t.resume,
                act(() => api.resume()),
              ),
            )
          : h(
              'div',
              { class: 'row' },
              button(
                t.pause15,
                act(() => api.pause('15m')),
              ),
              button(
                t.pause60,
                act(() => api.pause('1h')),
              ),
              button(
                t.pauseTomorrow,
                act(() => api.pause('tomorrow')),
              ),
            ),
      inbox,
    );
  };
  const [status, { messages }] = await Promise.all([api.status(), api.messages()]);
  draw(status);
  drawMessages(messages);
}
