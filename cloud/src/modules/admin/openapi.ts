import type { OpenAPIHono } from '@hono/zod-openapi';
import { ImportGrant, PolicyContent, Scope, WorkingWeek } from '@icarus/shared';
import { z } from 'zod';
import { PolicyDiffSchema } from '../consent';
import type { AppEnv } from '../../platform/env';
import { documentOperations, errorResponses, json, SECURITY, type Operation } from '../../platform/openapi';
import { ADMIN_API } from './api';
import { DeviceAssignment, EnrollmentTokenInput, FleetQuery } from './fleet';

const errors = errorResponses({
  400: 'Invalid body or query; `fields` names each problem',
  401: 'Not signed in',
  403: 'Not an admin (reading and approving: neither an admin nor a works-council member), or the CSRF token is missing',
  404: 'No such policy version, person, token or device in your org',
  409: 'The version is not in a state that allows this step',
});

const Version = z.object({ version: z.coerce.number().int().min(1).describe('Policy version number') });
const PolicyState = z.enum(['draft', 'in_review', 'published', 'retired']);
const Approval = z.object({ userId: z.uuid(), name: z.string(), asAdmin: z.boolean(), asWorksCouncil: z.boolean(), approvedAt: z.iso.datetime() });
const PolicyVersionSummary = z.object({
  version: z.int(),
  state: PolicyState,
  hash: z.string(),
  createdAt: z.iso.datetime(),
  publishedAt: z.iso.datetime().nullable(),
});
const PolicyVersionView = PolicyVersionSummary.extend({
  content: PolicyContent,
  createdBy: z.uuid().nullable(),
  authors: z.array(z.object({ userId: z.uuid(), name: z.string() })).describe('Who created or edited it: none of them may approve it'),
  approvals: z.array(Approval),
  worksCouncilRequired: z.boolean(),
  nothingChanged: z.boolean().describe('The content is that of the version it would replace'),
  conflicts: z.array(z.looseObject({})).describe('Where purpose texts read differently from what the settings let managers see'),
  missingApprovals: z.array(z.string()).describe('What is still missing before it may be published; empty when it may'),
  diff: PolicyDiffSchema,
});
const ConsentRecord = z.object({
  receiptId: z.uuid(),
  deviceId: z.uuid(),
  policyVersion: z.int(),
  policyHash: z.string(),
  decision: z.enum(['granted', 'declined', 'withdrawn']),
  requested: z.array(Scope),
  granted: z.array(Scope),
  method: z.string(),
  effectiveAt: z.iso.datetime(),
  supersededAt: z.iso.datetime().nullable(),
});
const EnrollmentToken = z.object({
  tokenId: z.uuid(),
  label: z.string(),
  team: z.object({ teamId: z.uuid(), name: z.string() }).nullable(),
  forUserId: z.uuid().nullable(),
  expiresAt: z.iso.datetime(),
  maxUses: z.int(),
  uses: z.int(),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
  state: z.enum(['live', 'expired', 'used_up', 'revoked']),
});
const Device = z.object({
  deviceId: z.uuid(),
  name: z.string(),
  platform: z.string(),
  osUser: z.string().nullable(),
  owner: z.object({ userId: z.uuid(), name: z.string(), email: z.string() }).nullable(),
  agentVersion: z.string().nullable(),
  enrolledAt: z.iso.datetime(),
  lastSyncAt: z.iso.datetime().nullable(),
  pendingSpans: z.int().nullable(),
  droppedSpans: z.int().nullable(),
  failingSources: z.array(z.object({ name: z.string(), problem: z.string() })),
  revokedAt: z.iso.datetime().nullable(),
});
const DevicePage = z.object({
  devices: z.array(Device),
  total: z.int(),
  page: z.int(),
  pages: z.int(),
  sort: z.string(),
  dir: z.enum(['asc', 'desc']),
  summary: z.looseObject({}).describe('Counts of the fleet by health'),
});

/** The admin JSON API: policy versions from draft to published, consent history, enrollment tokens, devices. */
export function documentAdminApi(app: OpenAPIHono<AppEnv>) {
  const policies = ['policy versions'];
  const fleet = ['fleet'];
  const settings = ['settings'];
  const step = (operationId: string, path: string, summary: string): Operation => ({
    operationId,
    method: 'post',
    path,
    summary,
    tags: policies,
    security: SECURITY.sessionWrite,
    request: { params: Version },
    responses: { 200: { description: 'The version after this step', ...json(PolicyVersionView) }, ...errors },
  });
  const draftBody = {
    required: true,
    ...json(PolicyContent),
  };
  documentOperations(app, [
    {
      operationId: 'listPolicyVersions',
      method: 'get',
      path: ADMIN_API.policies,
      summary: 'Every policy version of the org, newest first (admins, works-council members)',
      tags: policies,
      security: SECURITY.session,
      responses: { 200: { description: 'Versions', ...json(z.array(PolicyVersionSummary)) }, ...errors },
    },
    {
      operationId: 'createPolicyDraft',
      method: 'post',
      path: ADMIN_API.policies,
      summary: 'Start a draft policy version with this content',
      tags: policies,
      security: SECURITY.sessionWrite,
      request: { body: draftBody },
      responses: { 201: { description: 'The new draft', ...json(PolicyVersionView) }, ...errors },
    },
    {
      operationId: 'getPolicyVersion',
      method: 'get',
      path: ADMIN_API.policy,
      summary: 'One policy version with its approvals, conflicts and diff against the version in force',
      tags: policies,
      security: SECURITY.session,
      request: { params: Version },
      responses: { 200: { description: 'The version', ...json(PolicyVersionView) }, ...errors },
    },
    {
      operationId: 'updatePolicyDraft',
      method: 'put',
      path: ADMIN_API.policy,
      summary: "Replace a draft's content",
      tags: policies,
      security: SECURITY.sessionWrite,
      request: { params: Version, body: draftBody },
      responses: { 200: { description: 'The draft as saved', ...json(PolicyVersionView) }, ...errors },
    },
    step('submitPolicyDraft', ADMIN_API.submit, 'Submit a draft for review'),
    step('reopenPolicyDraft', ADMIN_API.reopen, 'Take a version in review back to draft'),
    step('approvePolicyVersion', ADMIN_API.approve, 'Approve a version in review (an admin or works-council member who did not write it)'),
    step('publishPolicyVersion', ADMIN_API.publish, 'Publish an approved version: devices ask again where it asks for more'),
    {
      operationId: 'getConsentHistory',
      method: 'get',
      path: ADMIN_API.consentHistory,
      summary: "A person's consent decisions, every device, oldest first (audited)",
      tags: policies,
      security: SECURITY.session,
      request: { params: z.object({ userId: z.uuid() }) },
      responses: {
        200: {
          description: 'The person and their consent records',
          ...json(
            z.object({
              person: z.object({ id: z.uuid(), name: z.string(), email: z.string() }),
              records: z.array(ConsentRecord),
              imports: z.array(ImportGrant.extend({ deviceId: z.uuid() })).describe('Consents for imported history of a past period; the id is the receipt id'),
            }),
          ),
        },
        ...errors,
      },
    },
    {
      operationId: 'listEnrollmentTokens',
      method: 'get',
      path: ADMIN_API.tokens,
      summary: "The org's enrollment tokens and their state (never the tokens themselves)",
      tags: fleet,
      security: SECURITY.session,
      responses: { 200: { description: 'Tokens', ...json(z.array(EnrollmentToken)) }, ...errors },
    },
    {
      operationId: 'createEnrollmentToken',
      method: 'post',
      path: ADMIN_API.tokens,
      summary: 'Make an enrollment token; the token is in this answer only',
      tags: fleet,
      security: SECURITY.sessionWrite,
      request: {
        body: {
          required: true,
          content: {
            'application/json': { schema: EnrollmentTokenInput, example: { label: 'Sales laptops', validDays: 7, maxUses: 25 } },
          },
        },
      },
      responses: {
        201: { description: 'The token', ...json(z.object({ tokenId: z.uuid(), token: z.string(), expiresAt: z.iso.datetime() })) },
        ...errors,
      },
    },
    {
      operationId: 'revokeEnrollmentToken',
      method: 'post',
      path: ADMIN_API.revokeToken,
      summary: 'Revoke an enrollment token: no device enrolls with it any more',
      tags: fleet,
      security: SECURITY.sessionWrite,
      request: { params: z.object({ tokenId: z.uuid() }) },
      responses: { 204: { description: 'Revoked' }, ...errors },
    },
    {
      operationId: 'listDevices',
      method: 'get',
      path: ADMIN_API.devices,
      summary: "One page of the org's devices as searched, filtered and sorted, with the fleet's health (audited)",
      tags: fleet,
      security: SECURITY.session,
      request: { query: FleetQuery.out },
      responses: { 200: { description: 'A page of devices', ...json(DevicePage) }, ...errors },
    },
    {
      operationId: 'revokeDevice',
      method: 'post',
      path: ADMIN_API.revokeDevice,
      summary: 'Revoke a device: its tokens stop working and it sends nothing more',
      tags: fleet,
      security: SECURITY.sessionWrite,
      request: { params: z.object({ deviceId: z.uuid() }) },
      responses: { 204: { description: 'Revoked' }, ...errors },
    },
    {
      operationId: 'assignDevice',
      method: 'post',
      path: ADMIN_API.assignDevice,
      summary: 'Bind an active device to a person of the org, or unbind it (userId null); audited',
      tags: fleet,
      security: SECURITY.sessionWrite,
      request: { params: z.object({ deviceId: z.uuid() }), body: { required: true, ...json(DeviceAssignment) } },
      responses: { 200: { description: 'Who the device speaks for now', ...json(z.looseObject({ userId: z.uuid().nullable() })) }, ...errors },
    },
    {
      operationId: 'getWorkingWeek',
      method: 'get',
      path: ADMIN_API.workingWeek,
      summary: "The org's working week (ISO weekdays, 1 = Monday, and hours in its time zone): after-hours figures count outside it",
      tags: settings,
      security: SECURITY.session,
      responses: { 200: { description: 'The working week', ...json(WorkingWeek) }, ...errors },
    },
    {
      operationId: 'setWorkingWeek',
      method: 'put',
      path: ADMIN_API.workingWeek,
      summary: 'Set the working week; each problem is named and nothing changes unless all is well (audited)',
      tags: settings,
      security: SECURITY.sessionWrite,
      request: {
        body: { required: true, content: { 'application/json': { schema: WorkingWeek, example: { days: [7, 1, 2, 3, 4], start: '09:00', end: '17:00' } } } },
      },
      responses: { 200: { description: 'The working week as saved', ...json(WorkingWeek) }, ...errors },
    },
  ]);
}
