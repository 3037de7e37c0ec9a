import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { documentOperations, errorResponses, json, SECURITY } from '../../platform/openapi';
import { MY_DEVICES } from './my-devices';

const errors = errorResponses({
  401: 'Not signed in',
  403: 'The CSRF token is missing',
  404: 'No such device bound to you',
});

/** The person's side of binding, for the web app: their computers, pairing codes, disowning one. */
export function documentMyDevicesApi(app: OpenAPIHono<AppEnv>) {
  const tags = ['my devices'];
  documentOperations(app, [
    {
      operationId: 'listMyDevices',
      method: 'get',
      path: MY_DEVICES.api,
      summary: 'Computers bound to the signed-in person',
      tags,
      security: SECURITY.session,
      responses: {
        200: {
          description: 'Devices',
          ...json(
            z.object({
              devices: z.array(
                z.object({
                  deviceId: z.uuid(),
                  name: z.string(),
                  platform: z.string(),
                  osUser: z.string().nullable(),
                  lastSeenAt: z.iso.datetime().nullable(),
                }),
              ),
            }),
          ),
        },
        ...errors,
      },
    },
    {
      operationId: 'createPairingCode',
      method: 'post',
      path: MY_DEVICES.pairingCodes,
      summary: 'A one-time pairing code (10 minutes) that binds the computer it is typed into to the signed-in person',
      tags,
      security: SECURITY.sessionWrite,
      responses: {
        201: {
          description: 'The code',
          content: {
            'application/json': {
              schema: z.object({ code: z.string(), expiresAt: z.iso.datetime() }),
              example: { code: 'K7QPZ2MX', expiresAt: '2026-01-15T09:10:00.000Z' },
            },
          },
        },
        ...errors,
      },
    },
    {
      operationId: 'disownDevice',
      method: 'post',
      path: MY_DEVICES.disown,
      summary: '"This is not my computer": unbinds it from the signed-in person',
      tags,
      security: SECURITY.sessionWrite,
      request: { params: z.object({ deviceId: z.uuid() }) },
      responses: { 204: { description: 'Unbound: it records nothing as you any more' }, ...errors },
    },
  ]);
}
