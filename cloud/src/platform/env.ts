import type { MiddlewareHandler } from 'hono';
import type { Role } from '@icarus/shared';
import type { Logger } from 'pino';

/** Who a device is, as the devices module authenticates it per request. */
export interface DeviceIdentity {
  deviceId: string;
  orgId: string;
  userId: string | null;
  /** When the device last synced, as of authentication (drives throttled sync bookkeeping). */
  lastSeenAt?: Date | null;
}

/**
 * A device as authenticated per request: the binding in force (null while it speaks for no one),
 * the OS account it enrolled under (a hint only) and when it enrolled (no span of it starts earlier).
 */
export type EnrolledDevice = DeviceIdentity & { osUser: string; bindingId: string | null; enrolledAt: Date };

/** A person signed in to the web UI or API with a session. */
export interface SignedInUser {
  userId: string;
  orgId: string;
  email: string;
  name: string;
  role: Role;
  /** Teams this user manages (managers); empty for others. */
  managedTeamIds: string[];
  teamId: string | null;
  sessionId: string;
  /** A works-council member (any role): reads and approves policy versions, nothing else of admin. */
  worksCouncil?: boolean;
  /** Set when the request came with an API token of this user's: reads are audited as the token's. */
  apiTokenId?: string;
}

export type { Role };

/** The gateway's role guard as routes receive it: no roles means any signed-in person. */
export type RequireUser = (...roles: Role[]) => MiddlewareHandler<AppEnv>;

/** Hono context variables every module may read. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    device: EnrolledDevice;
    user: SignedInUser;
    /** How long a request body may stall before its read gives up (from config). */
    bodyIdleMs: number;
  };
}
