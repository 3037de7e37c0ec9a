import { Hono } from 'hono';
import { AppError } from '../../platform/errors';
import type { AppEnv, RequireUser } from '../../platform/env';
import { csvResponse, readCsvQuery } from '../../platform/http/csv';
import { readQuery } from '../../platform/http/query';
import { REPORT_PATHS } from '../reporting';
import type { ComplianceReports } from './coverage';
import { complianceCsv } from './csv';
import { CompliancePage } from './pages';
import { PeriodQuery, type ComplianceReportService } from './report';
import { z } from 'zod';
import { packMarkdown } from './pack';
import { MyNoticePage, PackDiffPage, PackPage, PACK_PATHS } from './pack-pages';
import { acknowledgmentsCsv, type NoticeAcknowledgments } from './acknowledgments';
import { readForm } from '../../platform/http/body';
import type { Context } from 'hono';
import type { CompliancePacks } from './pack-service';

const Version = z.coerce.number().int().min(1);
const PackQuery = z.object({ version: Version.optional() });
const PackDiffQuery = z.object({ from: Version, to: Version });

export const COMPLIANCE_API = {
  report: '/api/compliance/report',
  reportCsv: '/api/compliance/report.csv',
} as const;

/** The compliance report (JSON, CSV, printable page), consent coverage and device health, for admins and auditors. */
export function complianceRoutes(deps: {
  report: ComplianceReportService;
  coverage: ComplianceReports;
  packs: CompliancePacks;
  acknowledgments: NoticeAcknowledgments;
  timeZoneOf: (orgId: string) => Promise<string>;
  csrfOf: (c: Context<AppEnv>) => Promise<string>;
  requireUser: RequireUser;
}) {
  const readers = deps.requireUser('admin', 'auditor');
  return new Hono<AppEnv>()
    .get(COMPLIANCE_API.report, readers, async (c) => c.json(await deps.report.build(c.get('user'), readQuery(c, PeriodQuery))))
    .get(COMPLIANCE_API.reportCsv, readers, async (c) => {
      const { query, bom } = readCsvQuery(c, PeriodQuery);
      const report = await deps.report.build(c.get('user'), query);
      return csvResponse(complianceCsv(report), `compliance-${report.period.from}-to-${report.period.to}.csv`, { bom });
    })
    .get(REPORT_PATHS.consentCoverage, readers, async (c) => c.json(await deps.coverage.consentCoverage(c.get('user'))))
    .get(REPORT_PATHS.deviceHealth, deps.requireUser('admin'), async (c) => c.json(await deps.coverage.deviceHealth(c.get('user'))))
    .get(PACK_PATHS.page, readers, async (c) => {
      const view = await deps.packs.view(c.get('user'), readQuery(c, PackQuery).version);
      const { rows } = await deps.acknowledgments.list(c.get('user'), view.pack.policyVersion);
      return c.html(<PackPage user={c.get('user')} view={view} acknowledged={{ count: rows.filter((r) => r.acknowledgedAt).length, of: rows.length }} />);
    })
    .get(PACK_PATHS.acknowledgmentsCsv, readers, async (c) => {
      const { query, bom } = readCsvQuery(c, PackQuery);
      const { version, rows } = await deps.acknowledgments.list(c.get('user'), query.version);
      return csvResponse(acknowledgmentsCsv(version, rows), `notice-acknowledgments-v${version}.csv`, { bom });
    })
    .get(PACK_PATHS.myNotice, deps.requireUser(), async (c) => {
      const user = c.get('user');
      const mine = await deps.acknowledgments.mine(user);
      const { pack } = await deps.packs.view(user, mine.version);
      return c.html(
        <MyNoticePage user={user} pack={pack} acknowledgedAt={mine.acknowledgedAt} csrf={await deps.csrfOf(c)} timeZone={await deps.timeZoneOf(user.orgId)} />,
      );
    })
    .post(PACK_PATHS.myNotice, deps.requireUser(), async (c) => {
      const form = await readForm(c);
      const version = Version.safeParse(form['version']);
      if (!version.success)
        throw new AppError('validation_failed', "version: the notice's policy version is missing or not a number", [
          { path: 'version', problem: 'must be a whole number of 1 or more' },
        ]);
      await deps.acknowledgments.acknowledge(c.get('user'), version.data);
      return c.redirect(PACK_PATHS.myNotice, 303);
    })
    .get(PACK_PATHS.markdown, readers, async (c) => {
      const { pack } = await deps.packs.view(c.get('user'), readQuery(c, PackQuery).version);
      c.header('content-disposition', `attachment; filename="compliance-pack-v${pack.policyVersion}.md"`);
      return c.body(packMarkdown(pack), 200, { 'content-type': 'text/markdown; charset=utf-8' });
    })
    .get(PACK_PATHS.diff, readers, async (c) => {
      const { from, to } = readQuery(c, PackDiffQuery);
      return c.html(<PackDiffPage user={c.get('user')} {...await deps.packs.diff(c.get('user'), from, to)} />);
    })
    .get('/audit/compliance', readers, async (c) =>
      c.html(<CompliancePage user={c.get('user')} report={await deps.report.build(c.get('user'), readQuery(c, PeriodQuery))} />),
    );
}
