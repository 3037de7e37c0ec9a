import type { CloudApp } from './app';
import { defaultPolicy } from './modules/consent';
import { randomBytes } from 'node:crypto';

export interface BootstrapResult {
  created: boolean;
  orgId: string;
  adminEmail: string;
  /** Shown once, on the start that created them; never again. */
  adminPassword?: string;
  enrollmentToken?: string;
}

export const DEMO_ADMIN_EMAIL = 'admin@demo.icarus.local';

/**
 * The first start on an empty database makes a demo org with an admin, the default policy
 * and a fleet enrollment token, so the server is usable at once.
 */
export async function bootstrapDemoOrg({ services }: CloudApp): Promise<BootstrapResult> {
  const existing = await services.directory.firstOrg();
  if (existing) return { created: false, orgId: existing.id, adminEmail: DEMO_ADMIN_EMAIL };

  const org = await services.directory.createOrg({ name: 'Demo Org', timeZone: 'Europe/Berlin' });
  const adminPassword = randomBytes(12).toString('base64url');
  await services.directory.createUser({ orgId: org.id, email: DEMO_ADMIN_EMAIL, name: 'Demo Admin', role: 'admin', password: adminPassword });
  await services.consent.publish(org.id, defaultPolicy(org.name), { type: 'system', id: 'bootstrap' });
  const { token } = await services.devices.createEnrollmentToken({ orgId: org.id, label: 'Fleet (first start)', validDays: 30, maxUses: 10_000 });
  return { created: true, orgId: org.id, adminEmail: DEMO_ADMIN_EMAIL, adminPassword, enrollmentToken: token };
}
