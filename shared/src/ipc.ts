import { z } from 'zod';
import { BoundPerson } from './api';
import { ConsentReceipt, ImportGrant, ImportPreview } from './consent';
import { EmployeeNotice, NoticeAcknowledgmentRequest } from './notice';
import { PolicyChange } from './policy';
import { LegalBasis, Scope, TitleMode } from './scopes';

/**
 * The one contract between the agent's screens and the agent: every channel with its request
 * and response schema. Electron's main process and the headless agent's loopback server both
 * validate every request against it; the preload and the browser bridge expose exactly these
 * channels and nothing else.
 */

/**
 * What the tray shows; one icon and tooltip per state. `revoked`: the organisation revoked this
 * device, so nothing is captured or sent and what it holds stays on it.
 */
export const AgentState = z.enum(['recording', 'paused', 'waiting_for_consent', 'offline', 'capture_failing', 'not_enrolled', 'revoked']);
export type AgentState = z.infer<typeof AgentState>;

export const StatusView = z.strictObject({
  state: AgentState,
  /** One line, already in words, e.g. "capturing app_usage, idle". */
  summary: z.string(),
  pausedUntil: z.iso.datetime().nullable(),
  pendingSpans: z.int().min(0),
  droppedSpans: z.int().min(0),
  lastSyncAt: z.iso.datetime().nullable(),
  lastSyncError: z.string().nullable(),
  scopesActive: z.array(Scope),
  captureSources: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), problem: z.string().optional() })),
  agentVersion: z.string(),
  serverUrl: z.string().nullable(),
  deviceId: z.string().nullable(),
});
export type StatusView = z.infer<typeof StatusView>;

/** A message the organisation's server sent this computer (a sign-in warning, a binding ended, an import withdrawn). */
export const AgentMessage = z.strictObject({ id: z.string(), text: z.string(), receivedAt: z.iso.datetime() });
export type AgentMessage = z.infer<typeof AgentMessage>;
const AgentMessages = z.strictObject({ messages: z.array(AgentMessage) });

export const ScopeView = z.strictObject({
  scope: Scope,
  purpose: z.string(),
  legalBasis: LegalBasis,
  /** A concrete example of what this scope records, taken from this computer right now. */
  example: z.string(),
  granted: z.boolean(),
  /** A newer policy widened it: not captured until the person decides again. */
  needsDecision: z.boolean(),
});
export type ScopeView = z.infer<typeof ScopeView>;

export const ConsentView = z.strictObject({
  policy: z
    .strictObject({
      version: z.int().min(1),
      hash: z.string(),
      url: z.string(),
      controller: z.strictObject({ name: z.string(), contact: z.string() }),
      purpose: z.string(),
      titleMode: TitleMode,
      titleModeText: z.string(),
      retentionDays: z.int(),
      minGroupSize: z.int(),
      managersSeeIndividuals: z.boolean(),
      reviewBeforeSendMinutes: z.int(),
    })
    .nullable(),
  scopes: z.array(ScopeView),
  /** True on first run and after a policy change: the window opens until the person decides. */
  decisionNeeded: z.boolean(),
  /**
   * When re-asking after a policy change: what changed since the version the person last
   * decided on (the server's PolicyDiff changes; `widens` marks those that ask more of them).
   * Absent on a first decision, when nothing changed, or when the server could not be asked.
   */
  changes: z.array(PolicyChange).optional(),
  /** The OS account the agent runs under: shown as a hint, never proof of who this is. */
  osUser: z.string(),
  /**
   * Who this computer records for, as the server says (a pairing code or IT): null while it is
   * bound to nobody, when no decision is asked for. Absent when the server was never reached.
   */
  boundTo: BoundPerson.nullable().optional(),
});
export type ConsentView = z.infer<typeof ConsentView>;

export const ReceiptView = z.strictObject({
  receipt: ConsentReceipt,
  receivedAt: z.iso.datetime(),
  /** The server's Ed25519 signature was checked against its published key. */
  verified: z.boolean(),
});
export type ReceiptView = z.infer<typeof ReceiptView>;

export const SpanStatus = z.enum(['sent', 'pending', 'held_for_review', 'rejected']);
export type SpanStatus = z.infer<typeof SpanStatus>;

export const SpanView = z.strictObject({
  id: z.string(),
  start: z.iso.datetime(),
  durationMs: z.int().min(0),
  app: z.string().nullable(),
  title: z.string().nullable(),
  idle: z.boolean(),
  status: SpanStatus,
  /** When review before send is on: the time this span may leave the device. */
  sendableAt: z.iso.datetime().nullable(),
  rejectedReason: z.string().nullable(),
});
export type SpanView = z.infer<typeof SpanView>;

export const MyDataView = z.strictObject({
  day: z.iso.date(),
  timeline: z.array(SpanView),
  totals: z.array(z.strictObject({ app: z.string(), activeMs: z.int().min(0) })),
  idleMs: z.int().min(0),
  counts: z.strictObject({ sent: z.int(), pending: z.int(), heldForReview: z.int(), rejected: z.int() }),
  reviewBeforeSendMinutes: z.int().min(0),
});
export type MyDataView = z.infer<typeof MyDataView>;

export const ViewerEntry = z.strictObject({ at: z.iso.datetime(), actor: z.string(), role: z.string(), what: z.string() });
export type ViewerEntry = z.infer<typeof ViewerEntry>;

/** A feature the connected server does not offer yet is said so, never faked. */
export const Availability = z.strictObject({ available: z.boolean(), reason: z.string().nullable() });

export const PausePreset = z.enum(['15m', '1h', 'tomorrow']);
export type PausePreset = z.infer<typeof PausePreset>;

/**
 * What importing an ActivityWatch export would upload, before anything is asked or stored: the
 * period its consent would cover, the numbers, and what is left out and why.
 */
export const ImportPlanView = z.strictObject({
  preview: ImportPreview,
  scopes: z.array(Scope),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  titleMode: TitleMode,
  retentionDays: z.int(),
  /** History before this is not stored by the organisation, so it is not imported. */
  keptFrom: z.iso.datetime(),
  skipped: z.array(z.strictObject({ reason: z.string(), count: z.int().min(0), ms: z.int().min(0) })),
});
export type ImportPlanView = z.infer<typeof ImportPlanView>;

/** An export file on this computer, read by the agent (the person's own files, as their own user). */
const ImportFile = { path: z.string().min(1).max(4096), scopes: z.array(Scope).min(1).max(3).optional() };

/**
 * The employee notice of the policy version in force, for the person this computer records for;
 * unavailable (with the reason) offline, unbound, or from a server that does not offer it.
 */
export const NoticeView = z.strictObject({
  ...Availability.shape,
  notice: EmployeeNotice.nullable(),
  /** Not acknowledged yet: the consent window opens for it, as for a decision. */
  acknowledgmentNeeded: z.boolean(),
});
export type NoticeView = z.infer<typeof NoticeView>;

const Empty = z.strictObject({});

export const IPC_CONTRACT = {
  'status:get': { request: Empty, response: StatusView },
  'consent:get': { request: Empty, response: ConsentView },
  'consent:decide': {
    request: z.strictObject({ policyVersion: z.int().min(1), granted: z.array(Scope).max(3) }),
    response: ReceiptView,
  },
  'consent:withdraw': { request: z.strictObject({ scopes: z.array(Scope).max(3) }), response: ReceiptView },
  /** A pairing code from the web app (My data → Pair a computer) binds this computer to its person. */
  'device:pair': { request: z.strictObject({ code: z.string().min(1).max(64) }), response: z.strictObject({ boundTo: BoundPerson.nullable() }) },
  'notice:get': { request: Empty, response: NoticeView },
  'notice:acknowledge': {
    request: NoticeAcknowledgmentRequest,
    response: z.strictObject({ version: z.int().min(1), acknowledgedAt: z.iso.datetime() }),
  },
  'receipts:list': { request: Empty, response: z.strictObject({ receipts: z.array(ReceiptView) }) },
  'mydata:day': { request: z.strictObject({ day: z.iso.date().optional() }), response: MyDataView },
  'mydata:forget': {
    request: z.strictObject({ spanIds: z.array(z.uuid()).min(1).max(1000) }),
    response: z.strictObject({ deleted: z.int().min(0) }),
  },
  'mydata:export': {
    request: z.strictObject({ format: z.enum(['json', 'csv']) }),
    response: z.strictObject({ filename: z.string(), mimeType: z.string(), content: z.string() }),
  },
  'mydata:viewers': {
    request: Empty,
    response: z.strictObject({ ...Availability.shape, entries: z.array(ViewerEntry) }),
  },
  'mydata:erase': {
    request: z.strictObject({ confirm: z.literal(true) }),
    response: z.strictObject({ ...Availability.shape, requestedAt: z.iso.datetime().nullable() }),
  },
  'imports:preview': { request: z.strictObject(ImportFile), response: ImportPlanView },
  /** The consent for the plan the person was shown (`shown`): refused when the file now reads differently. */
  'imports:grant': {
    request: z.strictObject({ ...ImportFile, shown: ImportPreview }),
    response: z.strictObject({ grant: ImportGrant, receipt: ConsentReceipt, verified: z.boolean(), stored: z.int().min(0) }),
  },
  /** `fileDialog`: this screen can open the system's file dialog ('imports:choose-file'); otherwise the path is typed. */
  'imports:list': { request: Empty, response: z.strictObject({ grants: z.array(ImportGrant), fileDialog: z.boolean() }) },
  /** The system's file dialog for an export; `path` null when the person closed it without choosing. */
  'imports:choose-file': { request: Empty, response: z.strictObject({ path: z.string().min(1).nullable() }) },
  /**
   * Withdraws an import's consent: its history is erased on the server and on this device.
   * `erasedOnServer` null: this device was revoked, so only its own copy was erased.
   */
  'imports:withdraw': {
    request: z.strictObject({ id: z.uuid() }),
    response: z.strictObject({ grant: ImportGrant, erasedOnServer: z.int().min(0).nullable(), erasedHere: z.int().min(0) }),
  },
  /** The organisation's messages to this computer, newest first (the last 20 kept). */
  'messages:list': { request: Empty, response: AgentMessages },
  /** The person has read it: removed from this computer (from `status` too); the rest, newest first. */
  'messages:dismiss': { request: z.strictObject({ id: z.string().min(1).max(200) }), response: AgentMessages },
  'pause:set': { request: z.strictObject({ preset: PausePreset }), response: StatusView },
  'pause:resume': { request: Empty, response: StatusView },
} as const;

export type IpcChannel = keyof typeof IPC_CONTRACT;
export type IpcRequest<C extends IpcChannel> = z.input<(typeof IPC_CONTRACT)[C]['request']>;
export type IpcResponse<C extends IpcChannel> = z.output<(typeof IPC_CONTRACT)[C]['response']>;

/** What the agent side implements, once, for Electron and the loopback server alike. */
export type IpcHandlers = { [C in IpcChannel]: (request: z.output<(typeof IPC_CONTRACT)[C]['request']>) => Promise<IpcResponse<C>> };

/** Every answer crosses the boundary in this envelope, so an error keeps its code and words. */
export const IpcErrorCode = z.enum(['bad_request', 'unknown_channel', 'forbidden', 'unavailable', 'failed']);
export type IpcErrorCode = z.infer<typeof IpcErrorCode>;
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { code: IpcErrorCode; message: string } };

export function isIpcChannel(name: unknown): name is IpcChannel {
  return typeof name === 'string' && Object.hasOwn(IPC_CONTRACT, name);
}

/** The prefix of the loopback server's JSON bridge: POST /ipc/<channel>. */
export const IPC_HTTP_PREFIX = '/ipc/';
