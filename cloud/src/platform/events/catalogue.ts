// The events other systems may consume, in one place: each type's data as a zod schema, and the
// CloudEvents 1.0 envelope they travel in. docs/EVENTS.md is generated from this file
// (`npm run docs:events`), and a test fails when the page and the schemas differ.
//
// Ids only: an event names the org, person, device, policy version or notification it is about,
// never a title, name, email, host name or message text. A consumer that needs more asks the API
// with its own credentials, so what it may read is decided (and audited) there, and an erased
// person's details are not left behind in a broker, a log or a consumer's store.
import { z } from 'zod';

const Id = z.uuid();
const Instant = z.iso.datetime({ offset: true });
/** Scope names (`app_usage`, `window_titles`, …): what was consented to, never what was captured. */
const Scopes = z.array(z.string().regex(/^[a-z_]{1,40}$/));

const ConsentDecided = z.strictObject({
  orgId: Id,
  deviceId: Id,
  userId: Id,
  receiptId: Id,
  policyVersion: z.int().min(1),
  /** Scopes in force after the decision. */
  granted: Scopes,
  method: z.string().max(40),
});

/** An import grant of past history (ActivityWatch) and its withdrawal: the period and scopes, never the history. */
const ImportDecided = z.strictObject({
  orgId: Id,
  deviceId: Id,
  userId: Id,
  grantId: Id,
  source: z.enum(['activitywatch']),
  from: Instant,
  to: Instant,
  scopes: Scopes,
});

/** Every event type: its data, and one sentence for the catalogue. */
export const EVENT_CATALOGUE = {
  'consent.granted': {
    subject: "the person's id",
    summary: 'A person granted consent (some or all scopes) on a device; the receipt is stored.',
    data: ConsentDecided,
  },
  'consent.declined': {
    subject: "the person's id",
    summary: 'A person declined the policy on a device: nothing is captured for the scopes not granted.',
    data: ConsentDecided,
  },
  'consent.withdrawn': {
    subject: "the person's id",
    summary: 'A person withdrew consent on a device or from the web; `granted` is what is left.',
    data: ConsentDecided,
  },
  'consent.import_granted': {
    subject: "the person's id",
    summary:
      'A person consented to bring in history recorded elsewhere (ActivityWatch) for the past period [from, to) and the named scopes; the receipt id is the grant id.',
    data: ImportDecided,
  },
  'consent.import_withdrawn': {
    subject: "the person's id",
    summary: 'A person withdrew an import consent: the history it brought in is erased and its days are rebuilt.',
    data: ImportDecided,
  },
  'policy.published': {
    subject: '`<orgId>/policies/<version>`',
    summary: 'A policy version was approved and published; the one before it is retired.',
    data: z.strictObject({ orgId: Id, version: z.int().min(1), hash: z.string().regex(/^[0-9a-f]{64}$/) }),
  },
  'device.enrolled': {
    subject: 'the device id',
    summary: 'A device enrolled with an enrollment token (bound to a person only with a per-person token).',
    data: z.strictObject({ orgId: Id, deviceId: Id, enrollmentTokenId: Id, platform: z.string().max(40) }),
  },
  'device.revoked': {
    subject: 'the device id',
    summary: 'An admin revoked a device: its tokens are refused from now on.',
    data: z.strictObject({ orgId: Id, deviceId: Id }),
  },
  'batch.ingested': {
    subject: 'the batch id the device chose',
    summary: 'A batch stored new spans: how many and the time they cover (never what they contain).',
    data: z.strictObject({
      orgId: Id,
      deviceId: Id,
      userId: Id,
      batchId: Id,
      spans: z.int().min(1),
      /** Sum of the new spans' durations. */
      durationMs: z.int().min(0),
      from: Instant,
      to: Instant,
    }),
  },
  'audit.checkpoint_signed': {
    subject: '`<orgId>/checkpoints/<seq>`',
    summary: "A signed checkpoint of an org's audit chain was stored (verify it with `/v1/audit-keys`).",
    data: z.strictObject({
      orgId: Id,
      seq: z.int().min(1),
      size: z.int().min(1),
      hash: z.string().regex(/^[0-9a-f]{64}$/),
      keyId: z.string().min(1),
    }),
  },
  'notification.sent': {
    subject: "the notification's id",
    summary: 'A notification was delivered on a channel (the address and the message stay inside).',
    data: z.strictObject({
      orgId: Id,
      notificationId: Id,
      /** The kind of notice (`weekly_report`, `consent_confirmed`, …). */
      notice: z.string().max(60),
      channel: z.enum(['email', 'webhook', 'agent']),
      userId: Id.nullable(),
    }),
  },
} as const;

export type EventName = keyof typeof EVENT_CATALOGUE;
export type EventData<N extends EventName> = z.infer<(typeof EVENT_CATALOGUE)[N]['data']>;
export const EVENT_NAMES = Object.keys(EVENT_CATALOGUE) as EventName[];

/** CloudEvents `type` of a name: reverse-DNS, so it cannot clash with another producer's. */
export const EVENT_TYPE_PREFIX = 'com.icarusnova.';
export const cloudEventType = (name: EventName) => `${EVENT_TYPE_PREFIX}${name}`;

/** An event as a module records it, in the transaction of the change it announces. */
export type NewEvent = { [N in EventName]: { name: N; subject: string; data: EventData<N>; time?: Date } }[EventName];

/**
 * The CloudEvents 1.0 structured-mode JSON envelope. `id` is the outbox row's: every redelivery of
 * one event carries it, so consumers de-duplicate on (`source`, `id`).
 */
export const CloudEventEnvelope = z.strictObject({
  specversion: z.literal('1.0'),
  id: Id,
  source: z.string().min(1),
  type: z.string().startsWith(EVENT_TYPE_PREFIX),
  time: Instant,
  subject: z.string().min(1),
  datacontenttype: z.literal('application/json'),
  data: z.record(z.string(), z.unknown()),
});
export type CloudEventEnvelope = z.infer<typeof CloudEventEnvelope>;

/** Parses an envelope and its data against the catalogue: what a consumer (or a test) runs. */
export function parseCloudEvent(json: unknown): { envelope: CloudEventEnvelope; name: EventName } {
  const envelope = CloudEventEnvelope.parse(json);
  const name = envelope.type.slice(EVENT_TYPE_PREFIX.length);
  if (!(name in EVENT_CATALOGUE)) throw new Error(`unknown event type ${envelope.type}`);
  const known = name as EventName;
  EVENT_CATALOGUE[known].data.parse(envelope.data);
  return { envelope, name: known };
}
