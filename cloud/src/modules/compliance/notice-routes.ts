// The employee notice on the device: the agent shows the notice of the policy version in force at
// consent time and when a new version is published, and records the person's acknowledgment, which
// counts in the same tracking as one given on the web.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { EmployeeNotice, NOTICE_PATHS, NoticeAcknowledgmentRequest } from '@icarus/shared';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readJson } from '../../platform/http/body';
import type { NoticeAcknowledgments, NoticeReader } from './acknowledgments';
import type { CompliancePacks } from './pack-service';

/** The person this device is bound to: only a proven binding (pairing code, IT, per-person token) says whose notice it is. */
function deviceReader(c: Context<AppEnv>): NoticeReader {
  const device = c.get('device');
  if (!device.userId || !device.bindingId) {
    throw new AppError(
      'device_unbound',
      'This device is not bound to a person, so there is no one to show the notice to: pair it with a code from My data → Pair a computer, or ask IT to assign it',
      [{ path: 'device', problem: 'not bound to a person' }],
    );
  }
  return { orgId: device.orgId, userId: device.userId, deviceId: device.deviceId };
}

export function deviceNoticeRoutes(deps: {
  packs: CompliancePacks;
  acknowledgments: NoticeAcknowledgments;
  deviceAuth: MiddlewareHandler<AppEnv>;
  maxBodyBytes: number;
}) {
  return new Hono<AppEnv>()
    .get(NOTICE_PATHS.notice, deps.deviceAuth, async (c) => {
      const reader = deviceReader(c);
      const mine = await deps.acknowledgments.mine(reader);
      const { pack } = await deps.packs.view(reader, mine.version);
      const notice = pack.documents.find((d) => d.id === 'notice');
      if (!notice) throw new AppError('internal', 'The compliance pack has no employee notice');
      const body: EmployeeNotice = {
        version: pack.policyVersion,
        hash: pack.policyHash,
        title: notice.title,
        sections: notice.sections.map((s) => ({ title: s.title, paragraphs: s.paragraphs })),
        acknowledgedAt: mine.acknowledgedAt ?? null,
      };
      return c.json(body);
    })
    .post(NOTICE_PATHS.acknowledgment, deps.deviceAuth, async (c) => {
      const reader = deviceReader(c);
      const body = await readJson(c, NoticeAcknowledgmentRequest, deps.maxBodyBytes);
      const done = await deps.acknowledgments.acknowledge(reader, body.version, body.hash);
      return c.json({ version: body.version, ...done }, done.first ? 201 : 200);
    });
}
