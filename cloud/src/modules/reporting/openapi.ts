import type { OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { BomField } from '../../platform/http/csv';
import { csvResponse, documentOperations, errorResponses, json, SECURITY } from '../../platform/openapi';
import { REPORT_PATHS } from './routes';
import {
  ConsentCoverage,
  DeviceHealth,
  ExportJob,
  ExportJobList,
  ExportQuery,
  PersonDetail,
  PersonRangeQuery,
  RangeFields,
  TeamComparison,
  TeamApps,
  TeamAppsQuery,
  TeamList,
  TeamPeople,
  TeamQuery,
  TeamRangeQuery,
  TeamSummary,
  Trend,
} from './schemas';

const errors = errorResponses({
  400: 'Invalid query; `fields` names each problem',
  401: 'Not signed in',
  403: 'Role, policy or consent does not allow this report',
  404: 'No such team or person in your org',
});

/** Documents the reports API in /openapi.json from the same zod schemas the handlers use. */
export function documentReportsApi(app: OpenAPIHono<AppEnv>) {
  const paths: { operationId: string; path: string; summary: string; query?: z.ZodObject; response: z.ZodType }[] = [
    { operationId: 'listReportTeams', path: REPORT_PATHS.teams, summary: 'Teams you may report on, and today in the org time zone', response: TeamList },
    {
      operationId: 'getTeamSummary',
      path: REPORT_PATHS.teamSummary,
      summary: 'Team summary: active, idle, productive share, top apps and categories, per day',
      query: TeamRangeQuery,
      response: TeamSummary,
    },
    {
      operationId: 'getTeamApps',
      path: REPORT_PATHS.teamApps,
      summary: "A team's apps (optionally of one category) over its passing days, per day",
      query: TeamAppsQuery,
      response: TeamApps,
    },
    {
      operationId: 'getTeamPeople',
      path: REPORT_PATHS.teamPeople,
      summary: 'Members of a team whose detail the policy and their consent let you open',
      query: TeamQuery,
      response: TeamPeople,
    },
    { operationId: 'getTeamTrend', path: REPORT_PATHS.teamTrend, summary: "A team's weekly trend", query: TeamRangeQuery, response: Trend },
    { operationId: 'getOrgTrend', path: REPORT_PATHS.orgTrend, summary: 'Org-wide weekly trend (admins)', query: RangeFields, response: Trend },
    {
      operationId: 'getTeamComparison',
      path: REPORT_PATHS.teamComparison,
      summary: 'Teams compared, with the org total (admins)',
      query: RangeFields,
      response: TeamComparison,
    },
    {
      operationId: 'getPersonDetail',
      path: REPORT_PATHS.person,
      summary: "One person's detail, where the policy and their consent allow",
      query: PersonRangeQuery,
      response: PersonDetail,
    },
    {
      operationId: 'getConsentCoverage',
      path: REPORT_PATHS.consentCoverage,
      summary: 'Who granted what, withdrawals, pending re-consent (admins, auditors)',
      response: ConsentCoverage,
    },
    {
      operationId: 'getDeviceHealth',
      path: REPORT_PATHS.deviceHealth,
      summary: 'Last sync, agent version, pending and dropped spans per device (admins)',
      response: DeviceHealth,
    },
  ];
  documentOperations(app, [
    ...paths.map((p) => ({
      operationId: p.operationId,
      method: 'get' as const,
      path: p.path,
      summary: p.summary,
      tags: ['reports'],
      security: p.path === REPORT_PATHS.person ? SECURITY.session : SECURITY.sessionOrApiToken,
      ...(p.query ? { request: { query: p.query } } : {}),
      responses: { 200: { description: 'The report; hidden slices say why', ...json(p.response) }, ...errors },
    })),
    {
      operationId: 'exportReportCsv',
      method: 'get',
      path: REPORT_PATHS.exportCsv,
      summary: "One team's range of at most 31 days as CSV, streamed (team level, or per person where allowed); larger exports are jobs (requestReportExport)",
      tags: ['reports'],
      security: SECURITY.sessionOrApiToken,
      request: { query: ExportQuery.safeExtend({ bom: BomField }) },
      responses: {
        200: csvResponse('The rows, one header row first'),
        ...errors,
        ...errorResponses({ 409: 'The whole org, or more than 31 days: ask for it with POST /api/reports/exports' }),
      },
    },
    {
      operationId: 'requestReportExport',
      method: 'post',
      path: REPORT_PATHS.exportJobs,
      summary: 'Ask for a large export (the whole org, or more than 31 days) as a background job; audited',
      tags: ['reports'],
      security: SECURITY.sessionWrite,
      request: { body: { content: { 'application/json': { schema: ExportQuery } }, required: true } },
      responses: { 202: { description: 'The job, queued', ...json(ExportJob) }, ...errors },
    },
    {
      operationId: 'listReportExports',
      method: 'get',
      path: REPORT_PATHS.exportJobs,
      summary: 'Your recent export jobs, newest first',
      tags: ['reports'],
      security: SECURITY.session,
      responses: { 200: { description: 'Your jobs', ...json(ExportJobList) }, ...errors },
    },
    {
      operationId: 'getReportExport',
      method: 'get',
      path: REPORT_PATHS.exportJob,
      summary: 'One of your export jobs: state, bytes written, and its download link once done',
      tags: ['reports'],
      security: SECURITY.session,
      responses: { 200: { description: 'The job', ...json(ExportJob) }, ...errors },
    },
    {
      operationId: 'downloadReportExport',
      method: 'get',
      path: REPORT_PATHS.exportDownload,
      summary: 'The file of a finished export: only for whoever asked, until the link expires; audited',
      tags: ['reports'],
      security: SECURITY.session,
      responses: {
        200: csvResponse('The rows, one header row first'),
        ...errors,
        ...errorResponses({ 409: 'The export is not finished yet' }),
      },
    },
  ]);
}
