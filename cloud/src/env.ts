import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { EnrolledDevice } from './devices/service';

/** A person signed in to the web UI or API with a session. */
export interface SignedInUser {
  userId: string;
  orgId: string;
  email: string;
  name: string;
  role: 'employee' | 'manager' | 'admin' | 'auditor';
  /** Teams this user manages (managers); empty for others. */
  managedTeamIds: string[];
  teamId: string | null;
  sessionId: string;
}

export type Role = SignedInUser['role'];

/** The gateway's role guard as routes receive it: no roles means any signed-in person. */
export type RequireUser = (...roles: Role[]) => MiddlewareHandler<AppEnv>;

/** Hono context variables every module may read. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    device: EnrolledDevice;
    user: SignedInUser;
  };
}
