import { z } from 'zod';

/**
 * The roles a person holds in an org: employee (own data), manager (the teams they manage),
 * admin (the org), auditor (the audit log and compliance reports). One list for the
 * directory, the role guard, imports and the API documents.
 */
export const ROLES = ['employee', 'manager', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES, `must be one of ${ROLES.join(', ')}`);
