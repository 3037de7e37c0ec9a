/**
 * One capturing agent per data folder, with real processes: a second `icarus-agent run` on the
 * same folder refuses to start and names the first; a killed holder leaves no stale lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';
import { enrollOffline, lockHolderPid } from './agent-offline';

describe('the data folder lock', () => {
  let bundle: Awaited<ReturnType<typeof agentBundle>>;
  let home: AgentHome;

  beforeAll(async () => {
    bundle = await agentBundle();
    home = agentHome(bundle.file, process.env, { ICARUS_SAMPLE_INTERVAL_MS: '200', ICARUS_CAPTURE_BACKEND: 'get-windows' });
    await enrollOffline(home.dataDir);
  });
  afterAll(() => {
    home.cleanup();
    bundle.remove();
  });

  it('refuses a second agent on the same folder, naming the pid that holds it and since when', async () => {
    const first = home.start();
    expect(await lockHolderPid(home.dataDir)).toBe(first.child.pid);
    const before = Date.now();

    const second = await home.cli(['run']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(new RegExp(`in use by another icarus agent \\(pid ${first.child.pid}, since \\d{4}-\\d\\d-\\d\\dT`));
    expect(second.stdout).not.toMatch(/stopped/);
    expect(Date.now() - before).toBeLessThan(15_000);

    // The first one is unaffected and stops cleanly.
    expect(first.child.exitCode).toBeNull();
    expect(await first.stop()).toBe(0);
  });

  it('takes over from a holder that was killed outright (no stale lock)', async () => {
    const crashed = home.start();
    expect(await lockHolderPid(home.dataDir)).toBe(crashed.child.pid);
    await crashed.stop('SIGKILL');

    const next = home.start();
    // The killed holder's record may still be on disk; the new agent's pid replaces it.
    const deadline = Date.now() + 20_000;
    while ((await lockHolderPid(home.dataDir)) !== next.child.pid) {
      if (Date.now() > deadline || next.child.exitCode !== null) throw new Error(`the new agent did not take the lock:\n${next.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await next.stop()).toBe(0);
  });
});
