import { z } from 'zod';

/**
 * The employee notice of electronic monitoring, as a device shows it: the notice of the policy
 * version in force (one part of the compliance pack), and whether the person this device is bound
 * to has acknowledged it. A new policy version has a new notice to acknowledge.
 */
export const NOTICE_PATHS = {
  /** GET: the notice in force and the person's acknowledgment of it. */
  notice: '/v1/notice',
  /** POST: the person acknowledges the notice of the version they were shown. */
  acknowledgment: '/v1/notice/acknowledgment',
} as const;

export const NoticeSection = z.object({ title: z.string(), paragraphs: z.array(z.string()) });
export type NoticeSection = z.infer<typeof NoticeSection>;

export const EmployeeNotice = z.object({
  /** The policy version the notice is written from. */
  version: z.int().min(1),
  /** That version's hash: an acknowledgment names it, so it is of exactly this text. */
  hash: z.string(),
  title: z.string(),
  sections: z.array(NoticeSection),
  /** When the device's person acknowledged this version's notice (on any device or the web); null: not yet. */
  acknowledgedAt: z.iso.datetime().nullable(),
});
export type EmployeeNotice = z.infer<typeof EmployeeNotice>;

export const NoticeAcknowledgmentRequest = z.strictObject({
  version: z.int().min(1),
  hash: z.string().min(1).max(128),
});
export type NoticeAcknowledgmentRequest = z.infer<typeof NoticeAcknowledgmentRequest>;

export const NoticeAcknowledgment = z.object({
  version: z.int().min(1),
  acknowledgedAt: z.iso.datetime(),
  /** False when the person had acknowledged this version already: the first acknowledgment stays. */
  first: z.boolean(),
});
export type NoticeAcknowledgment = z.infer<typeof NoticeAcknowledgment>;
