import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, RequireUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readText } from '../../platform/http/body';
import type { DirectoryImporter } from './importer';

const ImportQuery = z.strictObject({
  dryRun: z.enum(['true', 'false'], 'must be true or false').default('true'),
});

/** Directory administration: CSV import (admins of the org only). */
export function directoryRoutes(deps: { importer: DirectoryImporter; requireUser: RequireUser; maxBodyBytes: number }) {
  return new Hono<AppEnv>().post('/api/directory/import', deps.requireUser('admin'), async (c) => {
    const query = ImportQuery.safeParse(c.req.query());
    if (!query.success) throw AppError.fromZod(query.error, 'query');
    const type = c.req.header('content-type') ?? '';
    if (!/^text\/(csv|plain)\b/i.test(type)) {
      throw new AppError('unsupported_media_type', `Content-Type must be text/csv, got "${type || 'none'}"`, [
        { path: 'content-type', problem: 'expected text/csv' },
      ]);
    }
    const text = await readText(c, deps.maxBodyBytes);
    const user = c.get('user');
    const summary = await deps.importer.importCsv({ orgId: user.orgId, actorUserId: user.userId, text, dryRun: query.data.dryRun === 'true' });
    return c.json(summary, summary.dryRun ? 200 : 201);
  });
}
