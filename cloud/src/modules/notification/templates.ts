import { SCOPES, type Scope } from '@icarus/shared';

/** Every event the notification service sends, with the facts its messages need. */
export type NotificationEvent =
  | {
      type: 'consent.granted' | 'consent.withdrawn';
      orgId: string;
      userId: string | null;
      deviceId: string;
      receiptId: string;
      policyVersion: number;
      granted: Scope[];
    }
  | { type: 'policy.published'; orgId: string; version: number; widens: boolean }
  | { type: 'device.silent'; orgId: string; deviceId: string; deviceName: string; ownerName: string | null; lastSeenAt: string | null; days: number }
  | { type: 'report.weekly'; orgId: string; userId: string; teamId: string; teamName: string; from: string; to: string; lines: string[] }
  | { type: 'erasure.completed'; orgId: string; userId: string; requestId: string; spansRemoved: number; eraseLocal: boolean }
  | {
      type: 'sign_in.failed_attempts';
      orgId: string;
      userId: string;
      /** The client address of the latest failures, and how many came from it since `firstFailedAt`. */
      address: string;
      addressFailures: number;
      firstFailedAt: string;
      lastFailedAt: string;
      /** Failures from every address in the account's current hour. */
      accountFailures: number;
    }
  /** An endpoint answered 410 Gone, or failed a delivery through its whole retry schedule, and was disabled: its org's admins hear of it. */
  | { type: 'webhook.disabled'; orgId: string; endpointId: string; url: string; reason?: 'gone' | 'failing'; detail?: string }
  /** A one-time link to set a password: by email to the person only, never to a webhook or a device. */
  | { type: 'account.invitation' | 'account.password_reset'; orgId: string; userId: string; link: string; expiresAt: string; invitedBy?: string };
export type EventType = NotificationEvent['type'];

/** Events whose messages carry a one-time link: mail only, and the link is removed from the outbox once delivered. */
export const SECRET_LINK_EVENTS: ReadonlySet<string> = new Set<EventType>(['account.invitation', 'account.password_reset']);

/** Events people choose about and webhooks subscribe to (the link mails are neither). */
export const EVENT_TYPES: readonly EventType[] = [
  'consent.granted',
  'consent.withdrawn',
  'policy.published',
  'device.silent',
  'report.weekly',
  'erasure.completed',
  'sign_in.failed_attempts',
  'webhook.disabled',
];

/**
 * Confirmations of a person's own decisions and of changes to how they are monitored
 * cannot be switched off: the person must learn of them. The rest are conveniences.
 */
export const MANDATORY_EVENTS: ReadonlySet<EventType> = new Set([
  'consent.granted',
  'consent.withdrawn',
  'policy.published',
  'erasure.completed',
  // Someone is trying the person's password: they must hear of it to act.
  'sign_in.failed_attempts',
  // Events stop going to a receiver: an admin must know to set up another.
  'webhook.disabled',
  'account.invitation',
  'account.password_reset',
]);

export interface Rendered {
  subject: string;
  text: string;
  html: string;
  /** The short form shown in the tray (a `message` directive holds at most 2000 characters). */
  agentText: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

/** Paragraphs (and bullet lists, lines starting "- ") as plain text and as simple HTML. */
function compose(subject: string, greeting: string, paragraphs: string[], agentText: string): Rendered {
  const text = [greeting, ...paragraphs, '— Icarus Nova'].join('\n\n');
  const htmlParts = paragraphs.map((p) => {
    const lines = p.split('\n');
    if (lines.every((l) => l.startsWith('- '))) return `<ul>${lines.map((l) => `<li>${escapeHtml(l.slice(2))}</li>`).join('')}</ul>`;
    return `<p>${lines.map(escapeHtml).join('<br>')}</p>`;
  });
  const html = `<!doctype html><html><body style="font-family:sans-serif;max-width:40em"><p>${escapeHtml(greeting)}</p>${htmlParts.join('')}<p style="color:#666">— Icarus Nova</p></body></html>`;
  return { subject, text, html, agentText: agentText.slice(0, 2000) };
}

const list = (scopes: Scope[]) => (scopes.length === 0 ? 'nothing' : scopes.map((s) => SCOPES[s].inSentence).join(', '));

/** The messages for one event, addressed to `name`. */
export function render(event: NotificationEvent, name: string): Rendered {
  const hello = `Hello ${name},`;
  switch (event.type) {
    case 'consent.granted':
      return compose(
        'Your consent was recorded',
        hello,
        [
          `Your consent to policy version ${event.policyVersion} was recorded. The agent on your device may now record: ${list(event.granted)}.`,
          `Receipt: ${event.receiptId}. You can withdraw at any time from the agent's menu, and see, export or erase your data under "My data".`,
        ],
        `Consent recorded (policy v${event.policyVersion}): ${list(event.granted)}. Receipt ${event.receiptId}.`,
      );
    case 'consent.withdrawn':
      return compose(
        'Your consent was withdrawn',
        hello,
        [
          `Your withdrawal was recorded and capture stopped at once. Still granted: ${list(event.granted)}.`,
          `Receipt: ${event.receiptId}. Data already sent stays under the policy's retention unless you ask for erasure under "My data".`,
        ],
        `Withdrawal recorded. Still granted: ${list(event.granted)}. Receipt ${event.receiptId}.`,
      );
    case 'policy.published':
      return compose(
        `Monitoring policy version ${event.version} was published`,
        hello,
        [
          event.widens
            ? `Version ${event.version} asks for more than the version you decided on. Nothing new is recorded until you decide again: your agent will ask you.`
            : `Version ${event.version} asks for nothing more than before; you can read it from the agent's menu.`,
        ],
        event.widens ? `Policy v${event.version} asks for more; your agent will ask you to decide again.` : `Policy v${event.version} was published.`,
      );
    case 'device.silent':
      return compose(
        `Device "${event.deviceName}" has not synced for ${event.days} days`,
        hello,
        [
          `The device "${event.deviceName}"${event.ownerName ? ` of ${event.ownerName}` : ''} last synced ${event.lastSeenAt ?? 'never'}.`,
          'It may be switched off, uninstalled, or unable to reach the server. Device health in the admin pages shows its last status.',
        ],
        `Device ${event.deviceName} has not synced for ${event.days} days.`,
      );
    case 'webhook.disabled':
      return event.reason === 'failing'
        ? compose(
            'A webhook endpoint was disabled',
            hello,
            [
              `The webhook endpoint ${event.url} failed a delivery through every retry (the last answer: ${event.detail ?? 'no answer'}), so it was disabled and nothing more is sent to it.`,
              'Once the receiver works again, re-enable it under Webhooks in the admin pages: a test delivery goes to it at once, and its signing secret is unchanged.',
            ],
            `Webhook ${event.url} failed every retry and was disabled.`,
          )
        : compose(
            'A webhook endpoint was disabled',
            hello,
            [
              `The webhook endpoint ${event.url} answered "410 Gone", which says it takes no more deliveries, so it was disabled and nothing more is sent to it.`,
              'If the receiver moved, add the new address under Webhooks in the admin pages; it gets a new signing secret. If it answered Gone by mistake, re-enable it there.',
            ],
            `Webhook ${event.url} answered 410 Gone and was disabled.`,
          );
    case 'report.weekly':
      return compose(
        `Weekly report: ${event.teamName}, ${event.from} to ${event.to}`,
        hello,
        [`Your team ${event.teamName} from ${event.from} to ${event.to}:`, event.lines.map((l) => `- ${l}`).join('\n'), 'Details are in the reports pages.'],
        `Weekly report for ${event.teamName} is ready.`,
      );
    case 'erasure.completed':
      return compose(
        'Your data was erased',
        hello,
        [
          `Your erasure request ${event.requestId} is complete: ${event.spansRemoved} recorded activity spans were removed, and your share of the team totals with them.`,
          event.eraseLocal ? 'Your devices were told to wipe what they still hold locally.' : 'Data still on your devices was left there, as you asked.',
          'The audit trail keeps the fact of your request and of its completion, without the erased content.',
        ],
        `Erasure complete: ${event.spansRemoved} spans removed.`,
      );
    case 'account.invitation':
      return compose(
        'You are invited to Icarus Nova',
        hello,
        [
          `${event.invitedBy ?? 'Your administrator'} invited you to Icarus Nova, where you can see what is recorded about you, who viewed it, and export or erase it.`,
          `Choose your password here (the link works once, until ${event.expiresAt.replace('T', ' ').slice(0, 16)} UTC):\n${event.link}`,
          'If you did not expect this, you can ignore this mail.',
        ],
        'You are invited to Icarus Nova; the link is in your email.',
      );
    case 'account.password_reset':
      return compose(
        'Set a new Icarus Nova password',
        hello,
        [
          `Someone (hopefully you) asked to reset your password. Choose a new one here; the link works once, for 30 minutes:\n${event.link}`,
          'If it was not you, ignore this mail: your password stays as it is. Tell your administrator if it keeps happening.',
        ],
        'A password reset link was sent to your email.',
      );
    case 'sign_in.failed_attempts': {
      const others = event.accountFailures - event.addressFailures;
      return compose(
        'Failed attempts to sign in to your Icarus Nova account',
        hello,
        [
          `There were ${event.addressFailures} failed attempts to sign in as you from the address ${event.address}, between ${event.firstFailedAt} and ${event.lastFailedAt} (UTC).` +
            (others > 0 ? ` In the last hour there were ${event.accountFailures} failed attempts from all addresses.` : ''),
          'Further attempts from that address are being slowed down. Signing in from an address you used before is not affected, and no one got in: an attempt that succeeds does not count as failed.',
          [
            '- If it was you (a mistyped password or an old code), nothing needs doing.',
            '- If it was not you: someone knows your email address and may be trying passwords. If you use this password anywhere else, change it there, and ask your administrator to reset it here.',
            '- Tell your administrator, who can see these attempts in the audit log.',
          ].join('\n'),
        ],
        `${event.addressFailures} failed sign-in attempts as you from ${event.address}; if this was not you, tell your administrator.`,
      );
    }
  }
}
