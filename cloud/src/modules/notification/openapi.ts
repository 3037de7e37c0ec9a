import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { documentOperations, errorResponses, json, SECURITY } from '../../platform/openapi';
import { NOTIFICATION_PATHS, PreferencesBody, WebhookBody } from './routes';
import { EVENT_TYPES, type EventType } from './templates';

const errors = errorResponses({
  400: 'Invalid body; `fields` names each problem',
  401: 'Not signed in',
  403: 'Not an admin (webhooks, deliveries), or the CSRF token is missing',
  404: 'No such webhook endpoint in your org',
});

const EventName = z.enum(EVENT_TYPES as [EventType, ...EventType[]]);
const Preference = z.object({ event: EventName, channel: z.enum(['email', 'agent']), enabled: z.boolean(), mandatory: z.boolean() });
const Webhook = z.object({ id: z.uuid(), url: z.string(), events: z.array(z.string()), createdAt: z.iso.datetime() });
const DisabledWebhook = Webhook.extend({
  disabledAt: z.iso.datetime(),
  reason: z.enum(['gone', 'failing']).describe('`gone`: it answered 410 Gone; `failing`: a delivery failed through the whole retry schedule'),
  detail: z.string().nullable().describe('What the receiver last answered'),
});
const Delivery = z.object({
  id: z.uuid(),
  event: z.string(),
  channel: z.enum(['agent', 'email', 'webhook']),
  target: z.string(),
  userId: z.uuid().nullable(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.int(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  deliveredAt: z.iso.datetime().nullable(),
});

/** Each person's notification preferences; the org's webhook endpoints and delivery log for admins. */
export function documentNotificationApi(app: OpenAPIHono<AppEnv>) {
  const tags = ['notifications'];
  const Preferences = z.object({ preferences: z.array(Preference) });
  const endpointId = z.object({ id: z.uuid() });
  documentOperations(app, [
    {
      operationId: 'getMyNotificationPreferences',
      method: 'get',
      path: NOTIFICATION_PATHS.preferences,
      summary: 'Which events the signed-in person hears of, by email and in the tray',
      tags,
      security: SECURITY.session,
      responses: { 200: { description: 'Every event and channel', ...json(Preferences) }, ...errors },
    },
    {
      operationId: 'setMyNotificationPreferences',
      method: 'put',
      path: NOTIFICATION_PATHS.preferences,
      summary: 'Switch events on or off per channel (mandatory ones cannot be switched off)',
      tags,
      security: SECURITY.sessionWrite,
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: PreferencesBody,
              example: { preferences: [{ event: 'report.weekly', channel: 'email', enabled: false }] },
            },
          },
        },
      },
      responses: { 200: { description: 'Every event and channel after the change', ...json(Preferences) }, ...errors },
    },
    {
      operationId: 'listWebhooks',
      method: 'get',
      path: NOTIFICATION_PATHS.webhooks,
      summary: "The org's active webhook endpoints, and those the server disabled with when and why (never their secrets)",
      tags,
      security: SECURITY.session,
      responses: {
        200: { description: 'Endpoints', ...json(z.object({ webhooks: z.array(Webhook), disabled: z.array(DisabledWebhook) })) },
        ...errors,
      },
    },
    {
      operationId: 'createWebhook',
      method: 'post',
      path: NOTIFICATION_PATHS.webhooks,
      summary: 'Add a webhook endpoint; its signing secret (Standard Webhooks, `whsec_…`) is in this answer only',
      tags,
      security: SECURITY.sessionWrite,
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: WebhookBody,
              example: { url: 'https://hooks.example.com/icarus', events: ['device.silent', 'policy.published'] },
            },
          },
        },
      },
      responses: {
        201: {
          description: 'The endpoint and its secret',
          ...json(z.object({ id: z.uuid(), url: z.string(), events: z.array(EventName), secret: z.string().describe('`whsec_` and the base64 key') })),
        },
        ...errors,
      },
    },
    {
      operationId: 'removeWebhook',
      method: 'delete',
      path: NOTIFICATION_PATHS.webhook,
      summary: 'Remove a webhook endpoint: nothing more is sent to it',
      tags,
      security: SECURITY.sessionWrite,
      request: { params: endpointId },
      responses: { 204: { description: 'Removed' }, ...errors },
    },
    {
      operationId: 'testWebhook',
      method: 'post',
      path: NOTIFICATION_PATHS.testWebhook,
      summary: 'Queue a signed `webhook.test` delivery to one endpoint; the delivery log shows whether it was taken',
      tags,
      security: SECURITY.sessionWrite,
      request: { params: endpointId },
      responses: { 202: { description: 'Queued', ...json(z.object({ deliveryId: z.uuid() })) }, ...errors },
    },
    {
      operationId: 'enableWebhook',
      method: 'post',
      path: NOTIFICATION_PATHS.enableWebhook,
      summary: 'Re-enable an endpoint the server disabled (same URL and secret) and queue a signed `webhook.test` delivery to it',
      tags,
      security: SECURITY.sessionWrite,
      request: { params: endpointId },
      responses: {
        202: { description: 'Enabled; the test delivery is queued', ...json(z.object({ deliveryId: z.uuid() })) },
        ...errors,
        ...errorResponses({ 409: 'Its URL is no longer one a webhook may reach (not https, or a private address)' }),
      },
    },
    {
      operationId: 'listDeliveries',
      method: 'get',
      path: NOTIFICATION_PATHS.deliveries,
      summary: "The org's recent deliveries (email, tray, webhook) and how each went",
      tags,
      security: SECURITY.session,
      responses: { 200: { description: 'Deliveries, newest first', ...json(z.object({ deliveries: z.array(Delivery) })) }, ...errors },
    },
  ]);
}
