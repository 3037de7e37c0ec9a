import type { Logger } from 'pino';
import type { DeviceIdentity } from './devices/service';

/** Hono context variables every module may read. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    device: DeviceIdentity;
  };
}
