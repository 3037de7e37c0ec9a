import type { Logger } from 'pino';
import type { DeviceIdentity } from './devices/service';

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

/** Hono context variables every module may read. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    device: DeviceIdentity;
    user: SignedInUser;
  };
}
