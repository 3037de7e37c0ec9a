import { Readable, Transform } from 'node:stream';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import type { Database } from '../../platform/db/client';
import type { SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import type { ObjectStore } from '../../platform/object-store';
import type { createCsvExport } from './export';
import type { ReportingService } from './service';
import { createExportJobStore, type ExportJobRow } from './export-job-store';

/** Days an export of one team may cover and still be answered inside the request. */
export const INLINE_EXPORT_MAX_DAYS = 31;
export const EXPORT_LINK_TTL_MS = 24 * 3_600_000;
export const EXPORT_LEASE_MS = 60_000;
const MAX_ATTEMPTS = 3;
/** Progress is written, and the lease renewed, after every this many bytes. */
const PROGRESS_BYTES = 1 << 20;

export interface ExportJobQuery {
  teamId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  level: 'team' | 'person';
}

/**
 * The rule for what stays inline: one team's export over at most 31 days is small (a team of a
 * few dozen people, a month) and streams inside the request; an export of the whole org, or of
 * a longer range, is a background job.
 */
export function exportRunsInline(q: ExportJobQuery): boolean {
  if (q.teamId === undefined) return false;
  if (q.from === undefined || q.to === undefined) return true; // the default range is the last 7 days
  const days = (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 + 1;
  return days <= INLINE_EXPORT_MAX_DAYS;
}

export interface ExportJobView {
  id: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'expired';
  query: ExportJobQuery;
  bytes: number;
  filename: string | null;
  requestedAt: string;
  completedAt: string | null;
  expiresAt: string | null;
  /** Where to download the file: only while done and not expired. */
  downloadUrl: string | null;
}

type Row = ExportJobRow;

interface Deps {
  database: Database;
  objects: ObjectStore;
  reports: ReportingService;
  exportCsv: ReturnType<typeof createCsvExport>;
  logger?: Logger | undefined;
  linkTtlMs?: number;
  pollMs?: number;
}

export const exportDownloadPath = (id: string) => `/api/reports/exports/${id}/download`;

/**
 * Large exports as jobs: asked for in a request (checked and audited then), claimed by a worker
 * with a lease (`FOR UPDATE SKIP LOCKED`, so two workers never take one job and a worker that
 * dies leaves it to the next once the lease runs out), written whole to the object store, and
 * downloadable by the one who asked until the link expires; the scheduler removes expired files.
 */
export function createExportJobs(deps: Deps) {
  const { database, objects, reports, exportCsv } = deps;
  const ttl = deps.linkTtlMs ?? EXPORT_LINK_TTL_MS;
  const store = createExportJobStore(database);

  const view = (r: Row, now = new Date()): ExportJobView => ({
    id: r.id,
    state: r.state,
    query: r.query as ExportJobQuery,
    bytes: r.bytes,
    filename: r.filename,
    requestedAt: r.requestedAt.toISOString(),
    completedAt: r.completedAt?.toISOString() ?? null,
    expiresAt: r.expiresAt?.toISOString() ?? null,
    downloadUrl: r.state === 'done' && r.expiresAt && r.expiresAt > now ? exportDownloadPath(r.id) : null,
  });

  /** The requester's own job; anyone else's (or another org's) is not found. */
  async function ownJob(user: SignedInUser, id: string): Promise<Row> {
    const row = await store.ofRequester(user.orgId, user.userId, id);
    if (!row) throw new AppError('not_found', 'No such export of yours');
    return row;
  }

  const jobs = {
    /** Checks access as the inline export does, records the job, and audits the request. */
    async request(user: SignedInUser, q: ExportJobQuery, now = new Date()): Promise<ExportJobView> {
      if (q.teamId === undefined) {
        if (user.role !== 'admin') throw new AppError('forbidden', 'Only admins export the whole organisation');
        if (q.level !== 'person') {
          throw new AppError('validation_failed', 'Invalid query: an export without a team is per person; team-level sums need a team', [
            { path: 'teamId', problem: 'required for level=team' },
          ]);
        }
      } else await reports.teamOf(user, q.teamId);
      const requester: SignedInUser = { ...user, sessionId: '' };
      const row = await store.insert({ id: uuidv7(), orgId: user.orgId, requestedBy: user.userId, requester, query: q, requestedAt: now });
      await reports.viewed(user, 'report.export.requested', [], { exportId: row.id, ...q, teamId: q.teamId ?? null });
      return view(row, now);
    },

    async status(user: SignedInUser, id: string, now = new Date()): Promise<ExportJobView> {
      return view(await ownJob(user, id), now);
    },

    /** The requester's recent jobs, newest first (the page lists them). */
    async list(user: SignedInUser, now = new Date()): Promise<ExportJobView[]> {
      const rows = await store.recentOf(user.orgId, user.userId, 20);
      return rows.map((r) => view(r, now));
    },

    /** The file, for its requester only while the link lasts; each download is audited. */
    async download(user: SignedInUser, id: string, now = new Date()): Promise<{ filename: string; body: Readable; size: number }> {
      const row = await ownJob(user, id);
      if (row.state === 'expired' || (row.expiresAt && row.expiresAt <= now)) throw new AppError('not_found', 'This export expired; ask for it again');
      if (row.state !== 'done' || !row.objectKey) throw new AppError('conflict', `This export is ${row.state}, not ready to download`);
      const [head, body] = await Promise.all([objects.head(row.objectKey), objects.stream(row.objectKey)]);
      if (!head || !body) throw new AppError('not_found', 'This export expired; ask for it again');
      await reports.viewed(user, 'report.export.downloaded', [], { exportId: row.id, bytes: head.size });
      return { filename: row.filename ?? `${row.id}.csv`, body, size: head.size };
    },

    /**
     * Takes one due job: queued, or running under a lease that ran out (its worker died). The
     * attempt number it returns is the lease's token: only the holder of it may finish the job.
     */
    async claim(leaseMs = EXPORT_LEASE_MS): Promise<Row | undefined> {
      return store.claim(leaseMs);
    },

    /** Writes a claimed job's file to the object store and marks it done (or failed after the last attempt). */
    async run(job: Row, leaseMs = EXPORT_LEASE_MS): Promise<void> {
      const key = `exports/${job.orgId}/${job.id}.csv`;
      try {
        const { filename, body } = await exportCsv(job.requester as SignedInUser, job.query as ExportJobQuery);
        let bytes = 0;
        let reported = 0;
        let progress: Promise<unknown> = Promise.resolve();
        const counting = new Transform({
          transform(chunk: Buffer, _enc, done) {
            bytes += chunk.length;
            if (bytes - reported >= PROGRESS_BYTES) {
              reported = bytes;
              const now = bytes;
              progress = progress.then(() => store.progress(job, now, leaseMs).catch(() => undefined));
            }
            done(null, chunk);
          },
        });
        const stored = await objects.put(key, Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>).pipe(counting), {
          contentType: 'text/csv; charset=utf-8',
        });
        await progress;
        const now = new Date();
        const finished = await store.finish(job, { bytes: stored.size, filename, objectKey: key, completedAt: now, expiresAt: new Date(now.getTime() + ttl) });
        // The lease ran out and another worker took the job: its file is the one kept.
        if (!finished) deps.logger?.warn({ exportId: job.id }, 'export finished after its lease was taken over');
      } catch (error) {
        deps.logger?.error({ err: error, exportId: job.id }, 'export job failed');
        await store.fail(job, String(error), job.attempts >= MAX_ATTEMPTS);
      }
    },

    /** Claims and runs due jobs until none is left; answers how many ran. */
    async runDue(leaseMs = EXPORT_LEASE_MS): Promise<number> {
      let n = 0;
      for (let job = await jobs.claim(leaseMs); job; job = await jobs.claim(leaseMs)) {
        await jobs.run(job, leaseMs);
        n++;
      }
      return n;
    },

    /** Removes the files of expired links and marks their jobs expired (the scheduler's job). */
    async removeExpired(now = new Date()): Promise<number> {
      const due = await store.expiredBy(now);
      for (const row of due) {
        if (row.objectKey) await objects.delete(row.objectKey);
        await store.markExpired(row.id);
      }
      if (due.length > 0) deps.logger?.info({ removed: due.length }, 'expired exports removed');
      return due.length;
    },
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;
  const poll = () => {
    running = jobs
      .runDue()
      .catch((err: unknown) => deps.logger?.error({ err }, 'export worker poll failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(poll, deps.pollMs ?? 2_000);
      });
  };

  return {
    ...jobs,
    /** The worker role: polls for due jobs. */
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setTimeout(poll, 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    schedule(scheduleJobs: import('../../platform/scheduler').ScheduleJobs) {
      return scheduleJobs([{ name: 'export-expiry', cron: '25 * * * *', run: () => jobs.removeExpired(new Date()) }]);
    },
  };
}
export type ExportJobs = ReturnType<typeof createExportJobs>;
