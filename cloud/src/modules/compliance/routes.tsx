import { Hono } from 'hono';
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
import { PackDiffPage, PackPage, PACK_PATHS } from './pack-pages';
import type { CompliancePacks } from './pack-service';

const Version = z.coerce.number().int().min(1);
const PackQuery = z.object({ version: Version.optional() });
const PackDiffQuery = z.object({ from: Version, to: Version });

export const COMPLIANCE_API = {
  report: '/api/compliance/report',
  reportCsv: '/api/compliance/report.csv',
} as const;

/** The compliance report (JSON, CSV, printable page), consent coverage and device health, for admins and auditors. */
export function complianceRoutes(deps: { report: ComplianceReportService; coverage: ComplianceReports; packs: CompliancePacks; requireUser: RequireUser }) {
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
    .get(PACK_PATHS.page, readers, async (c) =>
      c.html(<PackPage user={c.get('user')} view={await deps.packs.view(c.get('user'), readQuery(c, PackQuery).version)} />),
    )
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
