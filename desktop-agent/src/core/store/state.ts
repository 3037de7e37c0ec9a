import type Database from 'better-sqlite3';
import { z } from 'zod';
import { CaptureSourceStatus, ConsentReceipt, DeviceBinding, ImportGrant, Policy, PolicyContent, Scope, receiptFacts } from '@icarus/shared';

/** The person's decision as the device holds it. Absent until they decide: nothing is captured. */
export const ConsentState = z.strictObject({
  policyVersion: z.int(),
  /** The policy text decided on; a newer version is compared with it to find widened scopes. */
  policyContent: PolicyContent,
  granted: z.array(Scope),
  /** Capture of granted scopes starts no earlier than this (the server's receive time). */
  effectiveFromMs: z.number(),
  /** Granted scopes a newer policy widened: not captured until the person decides again. */
  pending: z.array(Scope),
});
export type ConsentState = z.infer<typeof ConsentState>;

export const ServerMessage = z.strictObject({ id: z.string(), text: z.string(), receivedMs: z.number() });
export type ServerMessage = z.infer<typeof ServerMessage>;

/** What the running agent last reported about itself, for `status` in another process. */
export const RuntimeReport = z.strictObject({
  pid: z.int(),
  updatedMs: z.number(),
  sources: z.array(CaptureSourceStatus),
  lastSyncMs: z.number().optional(),
  lastSyncError: z.string().optional(),
  nextSyncInMs: z.number().optional(),
});
export type RuntimeReport = z.infer<typeof RuntimeReport>;

/** The organisation revoked this device: nothing is captured or sent; local data is kept. */
export const Revocation = z.strictObject({ atMs: z.number(), serverSaid: z.string() });
export type Revocation = z.infer<typeof Revocation>;

/** The running agent's last scheduled update check (its log line), for `status`. */
export const UpdateCheck = z.strictObject({ atMs: z.number(), kind: z.enum(['none', 'available', 'staged', 'refused', 'failed']), said: z.string() });
export type UpdateCheck = z.infer<typeof UpdateCheck>;

const SETTINGS = {
  runtime: RuntimeReport,
  lastUpdateCheck: UpdateCheck,
  policy: Policy,
  consent: ConsentState,
  pauseUntilMs: z.number(),
  messages: z.array(ServerMessage),
  revoked: Revocation,
  /** Who the server last said this device speaks for (null boundTo: nobody yet). */
  binding: DeviceBinding,
  /** The import grants made on this device (history brought in under a consent for its past period), oldest first. */
  imports: z.array(ImportGrant),
} as const;
type Settings = { [K in keyof typeof SETTINGS]: z.infer<(typeof SETTINGS)[K]> };

export interface DeviceIdentity {
  deviceId: string;
  orgId: string;
  serverUrl: string;
  keyFile: string;
  enrolledMs: number;
}

export interface StoredReceipt {
  receiptId: string;
  receivedMs: number;
  verified: boolean;
  receipt: ConsentReceipt;
}

/** Settings, consent, receipts and the device identity: everything but the spans. */
export class StateStore {
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  get<K extends keyof Settings>(key: K): Settings[K] | undefined {
    const row = this.db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(key);
    if (!row) return undefined;
    const parsed = SETTINGS[key].safeParse(JSON.parse(row.value));
    if (!parsed.success) throw new Error(`setting "${key}" in ${this.file} is not valid: ${parsed.error.message}`);
    // zod's output type per key is exactly Settings[K]; TypeScript cannot correlate the union.
    return parsed.data as Settings[K];
  }

  set<K extends keyof Settings>(key: K, value: Settings[K]): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, JSON.stringify(SETTINGS[key].parse(value)));
  }

  delete(key: keyof Settings): void {
    this.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
  }

  device(): DeviceIdentity | undefined {
    const row = this.db
      .prepare<[], { device_id: string; org_id: string; server_url: string; key_file: string; enrolled_ms: number }>('SELECT * FROM device')
      .get();
    if (!row) return undefined;
    return { deviceId: row.device_id, orgId: row.org_id, serverUrl: row.server_url, keyFile: row.key_file, enrolledMs: row.enrolled_ms };
  }

  setDevice(d: DeviceIdentity): void {
    this.db
      .prepare(
        `INSERT INTO device (only, device_id, org_id, server_url, key_file, enrolled_ms) VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT (only) DO UPDATE SET device_id = excluded.device_id, org_id = excluded.org_id,
           server_url = excluded.server_url, key_file = excluded.key_file, enrolled_ms = excluded.enrolled_ms`,
      )
      .run(d.deviceId, d.orgId, d.serverUrl, d.keyFile, d.enrolledMs);
  }

  addReceipt(receipt: ConsentReceipt, receivedMs: number, verified: boolean): void {
    this.db
      .prepare('INSERT OR REPLACE INTO receipts (receipt_id, received_ms, decision, policy_version, jws, payload, verified) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(
        receiptFacts(receipt.payload).receiptId,
        receivedMs,
        receipt.payload.decision,
        receipt.payload.policy.version,
        receipt.jws,
        JSON.stringify(receipt.payload),
        verified ? 1 : 0,
      );
  }

  receipts(): StoredReceipt[] {
    const rows = this.db
      .prepare<[], { receipt_id: string; received_ms: number; verified: number; jws: string; payload: string }>(
        'SELECT receipt_id, received_ms, verified, jws, payload FROM receipts ORDER BY received_ms',
      )
      .all();
    return rows.map((r) => ({
      receiptId: r.receipt_id,
      receivedMs: r.received_ms,
      verified: r.verified === 1,
      receipt: ConsentReceipt.parse({ jws: r.jws, payload: JSON.parse(r.payload) }),
    }));
  }
}
