/**
 * Every English string the agent's screens and tray show, in one place so a translator works on
 * one file, except what each scope is called and its example: those are in the shared scope
 * registry, so the cloud's receipts and pages name a scope exactly as the agent does.
 * `{name}` marks a value filled in at run time by `format`.
 */

import { perScope, SCOPES } from '@icarus/shared';

export function format(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

export const examples = {
  serverLacksViewers: 'Your organisation\'s server does not offer the "who viewed my data" report yet.',
  serverLacksImports: "This agent cannot reach your organisation's server, so no import can be consented to or withdrawn here.",
  serverLacksErasure: "Your organisation's server does not accept erasure requests from the agent yet; ask your administrator.",
  serverLacksNotice: 'This agent cannot reach a server, so it cannot show the monitoring notice.',
  noticeUnbound: 'This computer records for no one yet, so there is no notice to acknowledge.',
  noticeUnreachable: 'The monitoring notice could not be fetched from the server: {problem}',
};

export const tray = {
  recording: 'Icarus Nova: recording ({scopes})',
  paused: 'Icarus Nova: paused until {until}',
  waiting_for_consent: 'Icarus Nova: waiting for your decision; nothing is recorded',
  offline: 'Icarus Nova: offline, {pending} spans waiting to be sent',
  capture_failing: 'Icarus Nova: recording is failing ({problem})',
  not_enrolled: 'Icarus Nova: not set up yet (no server)',
  revoked: 'Icarus Nova: this device was revoked by your organisation; nothing is recorded or sent',
  pause15: 'Pause for 15 minutes',
  pause60: 'Pause for 1 hour',
  pauseTomorrow: 'Pause until tomorrow',
  resume: 'Resume',
  myData: 'My data',
  privacy: 'Privacy and consent',
  about: 'About Icarus Nova',
  quit: 'Quit',
  aboutDetail: 'Version {version}\nServer: {server}\nDevice: {device}',
  notSet: 'not set',
};

export const common = {
  appName: 'Icarus Nova',
  navStatus: 'Status',
  navMyData: 'My data',
  navConsent: 'Privacy and consent',
  loading: 'Loading…',
  errorPrefix: 'Something went wrong: ',
  none: 'None',
  yes: 'Yes',
  no: 'No',
};

export const consentText = {
  title: 'Privacy and consent',
  bindingHeading: 'Who this computer records for',
  boundTo: 'This computer records for {name} <{email}>. Not you? Pair it again from your own account, or ask IT.',
  unbound:
    'This computer is not bound to anyone yet, so nothing is recorded or sent as anyone, and no one is asked to consent. Make a pairing code in the web app (My data → Pair a computer) and type it here, or ask IT to assign this computer (its OS account is {osUser}).',
  bindingUnknown: 'The agent has not reached the server yet, so it cannot say who this computer records for.',
  pairLabel: 'Pairing code',
  pairButton: 'Pair this computer',
  intro: 'Nothing is recorded until you decide. You can change your mind at any time from the tray menu.',
  noPolicy: "The agent has not received your organisation's policy yet. It will ask you as soon as it has.",
  noticeHeading: 'Monitoring notice (policy version {version})',
  noticeIntro: 'Your organisation must tell you how you are monitored. Please read this notice; acknowledging it says you received it, and grants nothing.',
  noticeAcknowledge: 'I have read this notice',
  noticeAcknowledged: 'You acknowledged this notice (policy version {version}) on {when}.',
  noticeUnavailable: 'Monitoring notice: {reason}',
  policyHeading: 'Policy version {version} from {controller}',
  purposeHeading: 'Why',
  scopesHeading: 'What may be recorded',
  scopeNames: perScope((s) => SCOPES[s].employeeLabel),
  basis: {
    consent: 'Based on your consent: declining has no consequence for you.',
    legitimate_interest: "Based on the employer's legitimate interest: shown so you can object.",
  } as Record<string, string>,
  exampleLabel: 'Example from this computer',
  grant: 'Allow',
  decline: 'Do not allow',
  decisionLegend: 'Your decision for: {scope}',
  needsDecision: 'Changed in this policy version: please decide again.',
  changesHeading: 'What changed since your last decision',
  changesIntro: 'Your organisation changed its policy, so you are asked again. Changes marked "asks more of you" widen what is recorded or who sees it.',
  changeWidens: 'Asks more of you',
  changeOther: 'Other change',
  titleMode: 'Window titles are kept as: {text}.',
  retention: 'Detailed records are kept for {days} days on the server.',
  whoSees: 'Who sees what',
  // What managers see is written by the shared managersSentence/managerPreview from the policy's settings,
  // the same sentences the cloud's policy page and editor show, so the two can never disagree.
  managerPreviewHeading: 'What your manager will see about you',
  minGroup: 'A team total is hidden when fewer than {n} people are in it.',
  review: 'You can review and delete records for {minutes} minutes before they are sent.',
  noReview: 'Records are sent as soon as they are complete.',
  controllerContact: 'Contact: {contact}',
  policyLink: 'Full policy text',
  submit: 'Send my decision',
  sending: 'Sending your decision…',
  receiptHeading: 'Your signed receipt',
  receiptIntro: 'The server signed this record of your decision; keep it as proof.',
  receiptVerified: 'Signature checked: valid.',
  receiptUnverified: 'The signature could not be checked on this device.',
  receiptId: 'Receipt',
  receiptTime: 'Decided at',
  receiptGranted: 'Allowed',
  receiptPolicyHash: 'Policy hash',
  receiptsHeading: 'Earlier receipts',
  withdrawHeading: 'Withdraw consent',
  withdrawAll: 'Withdraw all consent',
  withdrawIntro: 'Recording stops at once, and records not yet sent are deleted from this computer.',
};

export const myDataText = {
  title: 'My data',
  dayLabel: 'Day',
  timelineHeading: "Today's timeline",
  totalsHeading: 'Time per application',
  idleTotal: 'Away from the keyboard: {time}',
  countsHeading: 'Sent and waiting',
  counts: '{sent} sent, {pending} waiting to be sent, {held} held for your review, {rejected} refused by the server',
  reviewHeading: 'Review before sending',
  reviewIntro: 'Records wait {minutes} minutes here before they are sent. Select any you do not want sent and delete them.',
  reviewOff: "Review before sending is off in your organisation's policy.",
  deleteSelected: 'Delete selected records',
  deleted: '{n} records deleted from this computer.',
  selectSpan: 'Select {app} from {start} for deletion',
  columns: { start: 'Start', duration: 'Duration', app: 'Application', title: 'Title', status: 'Status' },
  statuses: { sent: 'Sent', pending: 'Waiting', held_for_review: 'Held for review', rejected: 'Refused' } as Record<string, string>,
  idleRow: 'Away',
  empty: 'Nothing recorded on this day.',
  viewersHeading: 'Who viewed my data',
  viewersEmpty: 'Nobody has viewed your personal data.',
  pauseHeading: 'Pause',
  exportHeading: 'Export',
  exportJson: 'Export as JSON',
  exportCsv: 'Export as CSV',
  eraseHeading: 'Erase my data',
  eraseIntro: 'Ask your organisation to delete everything recorded about you.',
  eraseButton: 'Request erasure',
  eraseConfirm: 'Ask your organisation to erase all your recorded data?',
  eraseDone: 'Erasure requested at {at}.',
  withdrawLink: 'Withdraw consent',
};

export const statusText = {
  title: 'Status',
  state: 'State',
  states: {
    recording: 'Recording',
    paused: 'Paused',
    waiting_for_consent: 'Waiting for your decision',
    offline: 'Offline',
    capture_failing: 'Recording is failing',
    not_enrolled: 'Not set up',
    revoked: 'Revoked by your organisation',
  } as Record<string, string>,
  revokedNote:
    'Your organisation revoked this device: nothing is recorded or sent any more. What it already holds stays on this computer; you can still see, export and delete it under My data.',
  scopes: 'Recording now',
  pending: 'Waiting to be sent',
  dropped: 'Dropped (kept too long unsent)',
  lastSync: 'Last sent',
  lastError: 'Last problem',
  sources: 'Capture sources',
  sourceOk: 'working',
  server: 'Server',
  device: 'Device',
  version: 'Agent version',
  pausedUntil: 'Paused until {until}',
  resume: 'Resume now',
  pause15: 'Pause 15 minutes',
  pause60: 'Pause 1 hour',
  pauseTomorrow: 'Pause until tomorrow',
  never: 'never',
};
