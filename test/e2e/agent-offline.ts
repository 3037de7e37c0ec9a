/**
 * An agent data folder enrolled without a cloud: a real device key and device record in a real
 * SQLite store, pointing at a closed local port. Enough for behaviour that lives on the device
 * alone (locking, file modes, signals, exports); syncing simply fails and retries.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { uuidv7 } from 'uuidv7';
import { createDeviceKey } from '../../desktop-agent/src/core/store/identity';
import { AgentStore } from '../../desktop-agent/src/core/store/store';

export async function enrollOffline(dataDir: string): Promise<string> {
  const store = AgentStore.open(dataDir);
  try {
    await createDeviceKey(store.keyFile);
    const deviceId = uuidv7();
    store.state.setDevice({ deviceId, orgId: uuidv7(), serverUrl: 'http://127.0.0.1:9', keyFile: store.keyFile, enrolledMs: Date.now() });
    return deviceId;
  } finally {
    store.close();
  }
}

/** The pid the data folder's lock names, once an agent holds it. */
export async function lockHolderPid(dataDir: string, timeoutMs = 20_000): Promise<number> {
  const file = join(dataDir, 'agent.lock.holder');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      try {
        const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid: unknown };
        if (typeof pid === 'number') return pid;
      } catch {
        // being renamed into place: read again
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no agent took the lock on ${dataDir} within ${timeoutMs} ms`);
}
