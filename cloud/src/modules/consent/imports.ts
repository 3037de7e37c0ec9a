// Consent for imported history: a person brings what another tool recorded before this device was
// enrolled (or before they consented on it) by granting, now, a consent that covers that past
// period [from, to) for named scopes. The grant has its own signed receipt stating the period and
// that it is an import, is audited, covers only batches that name it (never live capture), and
// counts only under the binding that made it. Withdrawing it erases the history it brought in.
import {
  CLOCK_SKEW_MS,
  retentionStartMs,
  type CollectionMethod,
  type ConsentReceipt,
  type ImportConsentRequest,
  type ImportGrant,
  type Scope,
} from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import type { AuditService } from '../audit';
import type { DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import type { EnrolledDevice } from '../../platform/env';
import type { Queryable } from '../../platform/db/client';
import { AppError } from '../../platform/errors';
import type { Keyring, SigningKey } from '../../platform/keyring';
import type { createPolicyPublication } from './policies';
import { buildReceiptPayload, signReceipt, type ReceiptContext } from './receipt';
import type { ConsentStore, ImportGrantRow } from './store';

/** Erases what a withdrawn grant brought in (spans, then rollups); how many spans it removed. */
export type ImportEraser = (grant: { id: string; orgId: string; userId: string; deviceId: string; from: Date; to: Date }) => Promise<number>;

/** What ingestion needs of a grant named by a batch. */
export interface ImportCover {
  fromMs: number;
  toMs: number;
  scopes: ReadonlySet<Scope>;
  /** False once withdrawn or when the device is bound to someone else now: it covers nothing. */
  inForce: boolean;
}

interface Deps {
  store: ConsentStore;
  audit: AuditService;
  directory: Pick<DirectoryService, 'findUser'>;
  policies: Pick<ReturnType<typeof createPolicyPublication>, 'currentPolicyRow' | 'toPolicy' | 'cachedPublishedVersion'>;
  receiptKeys: Keyring<SigningKey>;
  receiptContext: ReceiptContext;
  /** A withdrawal made on the web reaches the computer that holds the import's copy. */
  devices: Pick<DeviceService, 'queueDirective' | 'findDevice'>;
  now: () => Date;
}

export function toImportGrant(row: ImportGrantRow): ImportGrant {
  return {
    id: row.id,
    source: row.source,
    from: row.fromAt.toISOString(),
    to: row.toAt.toISOString(),
    scopes: row.scopes,
    policyVersion: row.policyVersion,
    decidedAt: row.decidedAt.toISOString(),
    withdrawnAt: row.withdrawnAt?.toISOString() ?? null,
    preview: row.preview,
  };
}

export function createImportConsent(deps: Deps) {
  const { store, audit, directory, policies, now } = deps;
  let eraser: ImportEraser | undefined;

  async function personOf(device: EnrolledDevice) {
    const person = device.userId && device.bindingId ? await directory.findUser(device.userId).catch(() => undefined) : undefined;
    if (!device.userId || !device.bindingId || !person || person.orgId !== device.orgId) {
      throw new AppError('device_unbound', 'This device is not bound to a person, so no one can consent to an import on it yet: pair it first', [
        { path: 'device', problem: 'not bound to a person' },
      ]);
    }
    return { person, bindingId: device.bindingId };
  }

  /** The device's grant under its binding now, or 404 naming the id. */
  async function ownGrant(device: EnrolledDevice, id: string): Promise<ImportGrantRow> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await store.importGrant(id.toLowerCase()) : undefined;
    if (!row || row.deviceId !== device.deviceId || row.bindingId !== device.bindingId) {
      throw new AppError('not_found', 'No such import grant on this device', [
        { path: 'id', problem: 'not an import grant made on this device by the person it is bound to' },
      ]);
    }
    return row;
  }

  async function withdrawRow(
    row: ImportGrantRow,
    person: { id: string; name: string; email: string },
    actor: { type: 'device' | 'user'; id: string; osUser: string; method: CollectionMethod },
  ): Promise<{ grant: ImportGrant; receipt: ConsentReceipt; erasedSpans: number }> {
    if (!eraser) throw new Error('no import eraser is configured');
    let jws = row.withdrawalReceiptJws;
    let payload: ConsentReceipt['payload'] | undefined;
    if (row.withdrawnAt === null || jws === null) {
      const at = now();
      const decidedOn = await policies.cachedPublishedVersion(row.orgId, row.policyVersion);
      const policyRow = decidedOn ?? (await policies.currentPolicyRow(row.orgId));
      const receiptId = uuidv7();
      payload = buildReceiptPayload({
        context: deps.receiptContext,
        receiptId,
        at,
        method: actor.method,
        decision: 'withdrawn',
        person,
        device: { id: row.deviceId, osUser: actor.osUser },
        orgId: row.orgId,
        policy: { version: policyRow.version, url: policies.toPolicy(policyRow).url, hash: policyRow.hash, content: policyRow.content },
        granted: [],
        agentVersion: null,
        importedHistory: { grantId: row.id, source: row.source, from: row.fromAt.toISOString(), to: row.toAt.toISOString() },
      });
      jws = await signReceipt(payload, deps.receiptKeys.newest);
      if (await store.withdrawImportGrant(row.id, at, jws)) {
        row.withdrawnAt = at;
        row.withdrawalReceiptJws = jws;
        await audit.record({
          orgId: row.orgId,
          actorType: actor.type,
          actorId: actor.id,
          action: 'consent.import_withdrawn',
          subjectUserIds: [row.userId],
          details: { grantId: row.id, receiptId, via: actor.method, from: row.fromAt.toISOString(), to: row.toAt.toISOString(), scopes: row.scopes },
        });
      } else {
        // Another request withdrew it first: its receipt is the one.
        const again = await store.importGrant(row.id);
        row.withdrawnAt = again?.withdrawnAt ?? at;
        jws = again?.withdrawalReceiptJws ?? jws;
        payload = undefined;
      }
    }
    const erasedSpans = await eraser({ id: row.id, orgId: row.orgId, userId: row.userId, deviceId: row.deviceId, from: row.fromAt, to: row.toAt });
    return { grant: toImportGrant(row), receipt: { jws, payload: payload ?? payloadOf(jws) }, erasedSpans };
  }

  return {
    /** Set once by the composition root: the erasure a withdrawal runs (the rights module's). */
    setEraser(erase: ImportEraser) {
      eraser = erase;
    },

    /**
     * Records the person's consent to store the named scopes for the past period [from, to),
     * with its signed receipt. Only the current policy's scopes may be granted, and only history
     * the org keeps (from within its retention); the period may not reach into the future.
     */
    async grant(device: EnrolledDevice, request: ImportConsentRequest): Promise<{ grant: ImportGrant; receipt: ConsentReceipt }> {
      const { person, bindingId } = await personOf(device);
      const policy = await policies.currentPolicyRow(device.orgId);
      if (request.policyVersion !== policy.version) {
        throw new AppError('conflict', `Policy version ${request.policyVersion} is not the current one (${policy.version}); fetch /v1/policy and ask again`, [
          { path: 'policyVersion', problem: `current version is ${policy.version}` },
        ]);
      }
      const offered = new Set(policy.content.scopes.map((s) => s.scope));
      const fields = request.scopes.flatMap((scope, i) =>
        offered.has(scope)
          ? []
          : [{ path: `scopes.${i}`, problem: `"${scope}" is not a scope of policy version ${policy.version}, so it cannot be imported either` }],
      );
      const at = now();
      const keptFrom = retentionStartMs(at.getTime(), policy.content.retentionDays);
      const from = new Date(request.from);
      const to = new Date(request.to);
      if (from.getTime() < keptFrom) {
        fields.push({
          path: 'from',
          problem: `before ${new Date(keptFrom).toISOString()}: the organisation keeps ${policy.content.retentionDays} days of history, older history is not stored`,
        });
      }
      if (to.getTime() > at.getTime() + CLOCK_SKEW_MS) fields.push({ path: 'to', problem: 'in the future: an import covers history already recorded' });
      if (fields.length > 0) throw new AppError('validation_failed', `Invalid body: ${fields[0]?.problem}`, fields);

      const id = uuidv7();
      const importedHistory = { grantId: id, source: request.source, from: from.toISOString(), to: to.toISOString() };
      const payload = buildReceiptPayload({
        context: deps.receiptContext,
        receiptId: id,
        at,
        method: request.method,
        decision: 'granted',
        person,
        device: { id: device.deviceId, osUser: device.osUser },
        orgId: device.orgId,
        policy: { version: policy.version, url: policies.toPolicy(policy).url, hash: policy.hash, content: policy.content },
        granted: request.scopes,
        agentVersion: request.agentVersion ?? null,
        importedHistory,
      });
      const jws = await signReceipt(payload, deps.receiptKeys.newest);
      const row: ImportGrantRow = {
        id,
        orgId: device.orgId,
        deviceId: device.deviceId,
        userId: person.id,
        bindingId,
        source: request.source,
        policyVersion: policy.version,
        policyHash: policy.hash,
        scopes: request.scopes,
        fromAt: from,
        toAt: to,
        preview: request.preview,
        method: request.method,
        decidedAt: at,
        receiptJws: jws,
        withdrawnAt: null,
        withdrawalReceiptJws: null,
      };
      await store.insertImportGrant(row);
      await audit.record({
        orgId: device.orgId,
        actorType: 'device',
        actorId: device.deviceId,
        action: 'consent.import_granted',
        subjectUserIds: [person.id],
        details: { receiptId: id, bindingId, policyVersion: policy.version, scopes: request.scopes, ...importedHistory, preview: request.preview },
      });
      return { grant: toImportGrant(row), receipt: { jws, payload } };
    },

    /**
     * Withdraws a grant (its own receipt, audited) and erases the history it brought in; rollups
     * follow. Asked again, it answers the first withdrawal's receipt and erases anything left.
     */
    async withdraw(device: EnrolledDevice, id: string): Promise<{ grant: ImportGrant; receipt: ConsentReceipt; erasedSpans: number }> {
      const { person } = await personOf(device);
      const row = await ownGrant(device, id);
      return withdrawRow(row, person, { type: 'device', id: device.deviceId, osUser: device.osUser, method: 'terminal' });
    },

    /**
     * The person, signed in on the web, withdraws one of their own imports (on whichever computer
     * it was made). `computer` is the one holding the import's copy: told at its next sync, or not
     * at all once revoked (a revoked device hears nothing from the server), which the person is shown.
     */
    async withdrawOnWeb(
      who: { orgId: string; userId: string },
      id: string,
    ): Promise<{ grant: ImportGrant; receipt: ConsentReceipt; erasedSpans: number; computer: { name: string; told: boolean } }> {
      const row = /^[0-9a-f-]{36}$/i.test(id) ? await store.importGrant(id.toLowerCase()) : undefined;
      const person = row ? await directory.findUser(who.userId).catch(() => undefined) : undefined;
      if (!row || !person || row.orgId !== who.orgId || row.userId !== who.userId) {
        throw new AppError('not_found', 'No such import of yours', [{ path: 'id', problem: 'not an import you made' }]);
      }
      const alreadyWithdrawn = row.withdrawnAt !== null;
      const outcome = await withdrawRow(row, person, { type: 'user', id: who.userId, osUser: '', method: 'web' });
      // The computer that made the import still holds its copy: it deletes it at its next sync,
      // unless it was revoked, when no directive would ever be taken.
      const device = await deps.devices.findDevice(row.deviceId);
      const told = device !== undefined && device.revokedAt === null;
      if (!alreadyWithdrawn && told)
        await deps.devices.queueDirective(row.deviceId, { type: 'import_withdrawn', grantId: row.id, reason: 'you withdrew this import on the web' });
      return { ...outcome, computer: { name: device?.name ?? 'the computer it was made on', told } };
    },

    /** The device's grants made by the person it is bound to now. */
    async grantsOf(device: EnrolledDevice): Promise<ImportGrant[]> {
      if (device.bindingId === null) return [];
      const rows = await store.importGrantsOfDevice(device.deviceId);
      return rows.filter((r) => r.bindingId === device.bindingId).map(toImportGrant);
    },

    /** A person's import grants on every device, oldest first (consent history, My data). */
    async grantsOfUser(orgId: string, userId: string): Promise<ImportGrant[]> {
      return (await store.importGrantsOfUser(orgId, userId)).map(toImportGrant);
    },

    /** In the transaction storing an import batch: the grant is still in force, and stays so until that transaction ends. */
    holdInForce: (tx: Queryable, id: string): Promise<boolean> => store.holdImportGrant(tx, id.toLowerCase()),

    /**
     * What a batch naming `id` may store, or undefined when the id is no grant of this device
     * (the batch is refused whole). A withdrawn grant, or one made under an earlier binding, covers nothing.
     */
    async cover(device: EnrolledDevice, id: string): Promise<ImportCover | undefined> {
      const row = await store.importGrant(id.toLowerCase());
      if (!row || row.deviceId !== device.deviceId) return undefined;
      return {
        fromMs: row.fromAt.getTime(),
        toMs: row.toAt.getTime(),
        scopes: new Set(row.scopes),
        inForce: row.withdrawnAt === null && device.bindingId !== null && row.bindingId === device.bindingId,
      };
    },
  };
}
export type ImportConsent = ReturnType<typeof createImportConsent>;

/** A receipt's payload read back from its compact JWS (signed here, so only decoded). */
function payloadOf(jws: string): ConsentReceipt['payload'] {
  const part = jws.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as ConsentReceipt['payload'];
}
