import { RoleSchema } from '@icarus/shared';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { errorResponses, json } from '../../platform/openapi';
import { SESSION_COOKIE } from './cookies';
import { ChainVerificationSchema } from '../audit';
import { CodeRequest, SignInRequest, VerifyRequest } from './routes';

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
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'session', { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE });
  registry.registerComponent('securitySchemes', 'csrf', { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' });
  const session = [{ session: [] }];
  const write = [{ session: [], csrf: [] }];
  const path = (method: 'get' | 'post' | 'delete', p: string, summary: string, extra: object) =>
    registry.registerPath({ method, path: p, summary, responses: errors, ...extra });

  path('post', '/api/session', 'Sign in with email and password; sets the session cookie', {
    request: { body: { required: true, ...json(SignInRequest) } },
    responses: {
      200: { description: 'No session yet: the email and password open accounts in several organizations; choose one', ...json(OrganizationChoice) },
      201: { description: 'Session started; `stage` says what is still needed', ...json(SessionStarted) },
      ...errors,
    },
  });
  path('post', '/api/session/totp', 'Second step of sign-in: the TOTP code', {
    security: write,
    request: { body: { required: true, ...json(CodeRequest) } },
    responses: { 200: { description: 'Fully signed in', ...json(z.object({ stage: z.literal('active') })) }, ...errors },
  });
  path('delete', '/api/session', 'Sign out', { security: write, responses: { 204: { description: 'Signed out' }, ...errors } });
  path('get', '/api/me', 'The signed-in person, the session stage and the CSRF token', {
    security: session,
    responses: { 200: { description: 'Who is signed in', ...json(Me) }, ...errors },
  });
  path('post', '/api/account/totp', 'Start TOTP enrolment: a new secret and its otpauth:// URI', {
    security: write,
    responses: { 201: { description: 'Secret to add to an authenticator app', ...json(TotpEnrollment) }, ...errors },
  });
  path('post', '/api/account/totp/confirm', 'Confirm TOTP enrolment with a code from the new secret', {
    security: write,
    request: { body: { required: true, ...json(CodeRequest) } },
    responses: {
      200: {
        description: 'Enrolled; the recovery codes are in this answer only (each stands in for a code once)',
        ...json(z.object({ enrolled: z.literal(true), recoveryCodes: z.array(z.string()) })),
      },
      ...errors,
    },
  });
  path('get', '/api/audit/verify', "Recompute the org's audit hash chain and hold it against the latest signed checkpoint (admin, auditor)", {
    security: session,
    responses: { 200: { description: 'Chain verification: every finding by kind', ...json(ChainVerificationSchema) }, ...errors },
  });
  path('post', '/api/audit/verify', 'Verify the chain against a checkpoint kept outside too (its compact JWS, from a compliance report or audit export)', {
    security: write,
    request: { body: { required: true, ...json(VerifyRequest) } },
    responses: { 200: { description: 'Chain verification: every finding by kind', ...json(ChainVerificationSchema) }, ...errors },
  });
  path('post', '/api/directory/import', 'Import people from CSV (admin): all rows valid or nothing is written', {
    security: write,
    request: {
      query: z.object({ dryRun: z.enum(['true', 'false']).default('true') }),
      body: { required: true, content: { 'text/csv': { schema: z.string().describe('email,name,osUser,team,managerEmail,role') } } },
    },
    responses: {
      200: { description: 'Dry run: what would change', ...json(ImportSummary) },
      201: { description: 'Imported', ...json(ImportSummary) },
      ...errors,
    },
  });
}
