import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv, SignedInUser, RequireUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readJson } from '../../platform/http/body';
import type { NotificationService } from './service';
import { EVENT_TYPES, type EventType } from './templates';

const EventName = z.enum(EVENT_TYPES as [EventType, ...EventType[]]);

export const PreferencesBody = z.strictObject({
  preferences: z
    .array(z.strictObject({ event: EventName, channel: z.enum(['email', 'agent']), enabled: z.boolean() }))
    .min(1)
    .max(50)
    // One row per (event, channel) is stored: a second entry for the same pair would say two things at once.
    .superRefine((prefs, ctx) => {
      const seen = new Set<string>();
      prefs.forEach((p, i) => {
        const key = `${p.event} ${p.channel}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'event'], message: `"${p.event}" by ${p.channel} is already given above` });
        seen.add(key);
      });
    }),
});
export const WebhookBody = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  events: z.array(EventName).min(1).max(EVENT_TYPES.length),
});

export const NOTIFICATION_PATHS = {
  preferences: '/api/me/notifications',
  webhooks: '/api/notifications/webhooks',
  webhook: '/api/notifications/webhooks/:id',
  testWebhook: '/api/notifications/webhooks/:id/test',
  enableWebhook: '/api/notifications/webhooks/:id/enable',
  deliveries: '/api/notifications/deliveries',
} as const;

/** Each person's preferences; the org's webhook endpoints and delivery log for admins. */
export function notificationRoutes(deps: { notifications: NotificationService; requireUser: RequireUser; maxBodyBytes: number }) {
  const { notifications, requireUser, maxBodyBytes } = deps;
  const admin = requireUser('admin');
  return new Hono<AppEnv>()
    .get(NOTIFICATION_PATHS.preferences, requireUser(), async (c) => c.json({ preferences: await notifications.preferences(c.get('user').userId) }))
    .put(NOTIFICATION_PATHS.preferences, requireUser(), async (c) => {
      const body = await readJson(c, PreferencesBody, maxBodyBytes);
      return c.json({ preferences: await notifications.setPreferences(c.get('user'), body.preferences) });
    })
    .get(NOTIFICATION_PATHS.webhooks, admin, async (c) => {
      const { orgId } = c.get('user');
      const [webhooks, disabled] = await Promise.all([notifications.listWebhooks(orgId), notifications.disabledWebhooks(orgId)]);
      return c.json({ webhooks, disabled });
    })
    .post(NOTIFICATION_PATHS.webhooks, admin, async (c) => {
      const body = await readJson(c, WebhookBody, maxBodyBytes);
      return c.json(await notifications.addWebhook(c.get('user'), body), 201);
    })
    .delete(NOTIFICATION_PATHS.webhook, admin, async (c) => {
      const id = z.uuid().safeParse(c.req.param('id'));
      if (!id.success) throw new AppError('not_found', 'No such webhook endpoint in this org', [{ path: 'id', problem: 'not found' }]);
      await notifications.removeWebhook(c.get('user'), id.data);
      return c.body(null, 204);
    })
    .post(NOTIFICATION_PATHS.testWebhook, admin, async (c) => {
      const id = z.uuid().safeParse(c.req.param('id'));
      if (!id.success) throw new AppError('not_found', 'No such webhook endpoint in this org', [{ path: 'id', problem: 'not found' }]);
      return c.json(await notifications.testWebhook(c.get('user'), id.data), 202);
    })
    .post(NOTIFICATION_PATHS.enableWebhook, admin, async (c) => {
      const id = z.uuid().safeParse(c.req.param('id'));
      if (!id.success) throw new AppError('not_found', 'No disabled webhook endpoint with that id in this org', [{ path: 'id', problem: 'not found' }]);
      return c.json(await notifications.enableWebhook(c.get('user'), id.data), 202);
    })
    .get(NOTIFICATION_PATHS.deliveries, admin, async (c) => c.json({ deliveries: await notifications.deliveries(c.get('user').orgId) }));
}
