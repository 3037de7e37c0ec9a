import { ApiError, RoleSchema } from '@icarus/shared';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { documentOperations, errorResponses, json, SECURITY, type Operation } from '../../platform/openapi';
import { ChainVerificationSchema } from '../audit';
import { ChangePasswordRequest, InvitationRequest } from './account-routes';
import { CodeRequest, SignInRequest, VerifyRequest } from './routes';
import { API_TOKEN_PATHS, ApiTokenList, CreateApiTokenRequest, CreatedApiToken } from './api-token-routes';

const errors = errorResponses({
  400: 'Invalid input; `fields` names each problem',
  401: 'Not signed in, or the second factor is still missing',
  403: 'Role not allowed, CSRF token missing, or an admin must enrol TOTP first',
  429: 'Too many requests, or failed sign-ins from this address (or, for new addresses, to this account); see Retry-After',
});

const Stage = z.enum(['active', 'needs_totp', 'needs_enrollment']);
const SessionStarted = z.object({ stage: Stage, csrfToken: z.string() });
const OrganizationChoice = z.object({
  stage: z.literal('choose_organization'),
  organizations: z.array(z.object({ id: z.uuid(), name: z.string() })).describe('Send the request again with one of these as `orgId`'),
});
const Me = z.object({
  user: z.object({
    userId: z.uuid(),
    orgId: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: RoleSchema,
    managedTeamIds: z.array(z.uuid()),
    teamId: z.uuid().nullable(),
    sessionId: z.string(),
    worksCouncil: z.boolean().optional().describe('A works-council member: reads and approves policy versions'),
  }),
  stage: Stage,
  hasTotp: z.boolean(),
  csrfToken: z.string().describe('Send as X-CSRF-Token on every POST, PUT, PATCH and DELETE'),
});
const SessionView = z.object({
  id: z.string(),
  current: z.boolean(),
  method: z.enum(['password', 'oidc']),
  address: z.string().nullable(),
  createdAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});
const Person = z.object({ id: z.uuid(), name: z.string(), email: z.string() });
const InvitationResult = z.object({
  invited: z.array(z.object({ userId: z.uuid(), email: z.string(), expiresAt: z.iso.datetime() })),
  skipped: z.array(z.object({ userId: z.uuid(), reason: z.string() })),
});
const TotpEnrollment = z.object({ secret: z.string().describe('base32'), uri: z.string().describe('otpauth:// URI') });
const ImportSummary = z.object({
  dryRun: z.boolean(),
  rows: z.int(),
  teamsCreated: z.int(),
  usersCreated: z.int(),
  usersUpdated: z.int(),
  managerAssignments: z.int(),
});

/** Documents the people-and-access JSON API from the schemas the handlers use. */
export function documentPeopleApi(app: OpenAPIHono<AppEnv>) {
  const tags = ['session and account'];
  const operations: Operation[] = [
    {
      operationId: 'signIn',
      method: 'post',
      path: '/api/session',
      summary: 'Sign in with email and password; sets the session cookie',
      tags,
      security: SECURITY.public,
      request: { body: { required: true, ...json(SignInRequest) } },
      responses: {
        200: { description: 'No session yet: the email and password open accounts in several organizations; choose one', ...json(OrganizationChoice) },
        201: { description: 'Session started; `stage` says what is still needed', ...json(SessionStarted) },
        ...errors,
      },
    },
    {
      operationId: 'verifySignInTotp',
      method: 'post',
      path: '/api/session/totp',
      summary: 'Second step of sign-in: the TOTP code',
      tags,
      security: SECURITY.sessionWrite,
      request: { body: { required: true, ...json(CodeRequest) } },
      responses: { 200: { description: 'Fully signed in', ...json(z.object({ stage: z.literal('active') })) }, ...errors },
    },
    {
      operationId: 'signOut',
      method: 'delete',
      path: '/api/session',
      summary: 'Sign out',
      tags,
      security: SECURITY.sessionWrite,
      responses: { 204: { description: 'Signed out' }, ...errors },
    },
    {
      operationId: 'getMe',
      method: 'get',
      path: '/api/me',
      summary: 'The signed-in person, the session stage and the CSRF token',
      tags,
      security: SECURITY.session,
      responses: { 200: { description: 'Who is signed in', ...json(Me) }, ...errors },
    },
    {
      operationId: 'startTotpEnrollment',
      method: 'post',
      path: '/api/account/totp',
      summary: 'Start TOTP enrolment: a new secret and its otpauth:// URI',
      tags,
      security: SECURITY.sessionWrite,
      responses: { 201: { description: 'Secret to add to an authenticator app', ...json(TotpEnrollment) }, ...errors },
    },
    {
      operationId: 'confirmTotpEnrollment',
      method: 'post',
      path: '/api/account/totp/confirm',
      summary: 'Confirm TOTP enrolment with a code from the new secret',
      tags,
      security: SECURITY.sessionWrite,
      request: { body: { required: true, ...json(CodeRequest) } },
      responses: {
        200: {
          description: 'Enrolled; the recovery codes are in this answer only (each stands in for a code once)',
          ...json(z.object({ enrolled: z.literal(true), recoveryCodes: z.array(z.string()) })),
        },
        ...errors,
      },
    },
    {
      operationId: 'listMySessions',
      method: 'get',
      path: '/api/account/sessions',
      summary: "The signed-in person's sessions, this one marked `current`",
      tags,
      security: SECURITY.session,
      responses: { 200: { description: 'Sessions, newest first', ...json(z.object({ sessions: z.array(SessionView) })) }, ...errors },
    },
    {
      operationId: 'changePassword',
      method: 'post',
      path: '/api/account/password',
      summary: 'Change the password (the current one is asked again); every other session of the person ends',
      tags,
      security: SECURITY.sessionWrite,
      request: { body: { required: true, ...json(ChangePasswordRequest) } },
      responses: {
        200: {
          description: 'Changed; how many other sessions ended',
          ...json(z.object({ changed: z.literal(true), sessionsEnded: z.int() })),
        },
        ...errors,
        ...errorResponses({ 409: 'The account has no password to change (single sign-on, or never set)' }),
      },
    },
    {
      operationId: 'listPeopleNotYetInvited',
      method: 'get',
      path: '/api/invitations/pending',
      summary: 'People of the org who cannot sign in yet and have no open invitation (admins)',
      tags: ['people'],
      security: SECURITY.session,
      responses: { 200: { description: 'People to invite', ...json(z.object({ people: z.array(Person) })) }, ...errors },
    },
    {
      operationId: 'invitePeople',
      method: 'post',
      path: '/api/invitations',
      summary: 'Mail one-time invitation links to the people named, or to everyone not yet invited (admins)',
      tags: ['people'],
      security: SECURITY.sessionWrite,
      request: { body: { required: true, ...json(InvitationRequest) } },
      responses: {
        201: { description: 'Invitations queued', ...json(InvitationResult) },
        ...errors,
        ...errorResponses({ 409: 'Invitations go by email, and no mail server is configured (SMTP_URL)' }),
      },
    },
    {
      operationId: 'verifyAuditChain',
      method: 'get',
      path: '/api/audit/verify',
      summary: "Recompute the org's audit hash chain and hold it against the latest signed checkpoint (admin, auditor)",
      tags: ['audit'],
      security: SECURITY.session,
      responses: { 200: { description: 'Chain verification: every finding by kind', ...json(ChainVerificationSchema) }, ...errors },
    },
    {
      operationId: 'verifyAuditChainAgainstCheckpoint',
      method: 'post',
      path: '/api/audit/verify',
      summary: 'Verify the chain against a checkpoint kept outside too (its compact JWS, from a compliance report or audit export)',
      tags: ['audit'],
      security: SECURITY.sessionWrite,
      request: { body: { required: true, ...json(VerifyRequest) } },
      responses: { 200: { description: 'Chain verification: every finding by kind', ...json(ChainVerificationSchema) }, ...errors },
    },
    {
      operationId: 'importDirectory',
      method: 'post',
      path: '/api/directory/import',
      summary: 'Import people from CSV (admin): all rows valid or nothing is written',
      tags: ['people'],
      security: SECURITY.sessionWrite,
      request: {
        query: z.object({ dryRun: z.enum(['true', 'false']).default('true') }),
        body: {
          required: true,
          content: {
            'text/csv': {
              schema: z.string().describe('email,name,osUser,team,managerEmail,role'),
              example: 'email,name,osUser,team,managerEmail,role\r\nzoe@example.com,Zoë Åberg,zoe,Sales,,employee\r\n',
            },
          },
        },
      },
      responses: {
        200: { description: 'Dry run: what would change', ...json(ImportSummary) },
        201: { description: 'Imported', ...json(ImportSummary) },
        ...errors,
      },
    },
    {
      operationId: 'createApiToken',
      method: 'post',
      path: API_TOKEN_PATHS.collection,
      summary: 'Make an API token for a BI tool (managers, admins): report reads only, within its scopes and teams; the token is in this answer only',
      tags: ['api-tokens'],
      security: SECURITY.sessionWrite,
      request: {
        body: {
          required: true,
          ...json(CreateApiTokenRequest.openapi({ example: { name: 'Power BI', scopes: ['reports:team', 'reports:export'], expiresInDays: 90 } })),
        },
      },
      responses: { 201: { description: 'Made; keep `token`, it is not shown again', ...json(CreatedApiToken) }, ...errors },
    },
    {
      operationId: 'listApiTokens',
      method: 'get',
      path: API_TOKEN_PATHS.collection,
      summary: 'Your API tokens (never the tokens themselves), with when each was last used',
      tags: ['api-tokens'],
      security: SECURITY.session,
      responses: { 200: { description: 'Newest first', ...json(ApiTokenList) }, ...errors },
    },
    {
      operationId: 'revokeApiToken',
      method: 'delete',
      path: API_TOKEN_PATHS.one,
      summary: 'Revoke an API token of yours (an admin: any of the org); it stops working at once',
      tags: ['api-tokens'],
      security: SECURITY.sessionWrite,
      responses: { 204: { description: 'Revoked' }, 404: { description: 'No such token, or already revoked', ...json(ApiError) }, ...errors },
    },
  ];
  documentOperations(app, operations);
}
