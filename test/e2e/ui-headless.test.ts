/**
 * `icarus-agent ui`: the real bin runs the agent and serves the screens on 127.0.0.1. Its stdout
 * here is a pipe, as under systemd, so the token-bearing address goes to a 0600 file in the data
 * folder and only that file's path (and the address without token) is printed; the pages and the IPC bridge answer over the running
 * agent, against the real cloud. No X display: capture reports its source failing, which is
 * exactly what the status screen should then say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { buildUi } from '../../desktop-agent/src/ui/build';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';

describe('icarus-agent ui', () => {
  let cloud: TestCloud;
  let bundle: Awaited<ReturnType<typeof agentBundle>>;
  let home: AgentHome;
  // Built the way the .deb's build does (/usr/lib/icarus-nova/ui): the bundle cannot build pages.
  const pages = mkdtempSync(join(tmpdir(), 'icarus-pages-'));

  beforeAll(async () => {
    [cloud, bundle] = await Promise.all([startTestCloud(), agentBundle(), buildUi(pages)]);
    home = agentHome(bundle.file, { ...process.env, DISPLAY: '' }, { ICARUS_SYNC_INTERVAL_MS: '1000' });
  });
  afterAll(async () => {
    home?.cleanup();
    bundle?.remove();
    rmSync(pages, { recursive: true, force: true });
    await cloud?.stopAll();
  });

  it('prints the screens address; the pages and the IPC bridge answer over the running agent', { timeout: 60_000 }, async () => {
    const enrolled = await home.cli(['enroll', '--server', cloud.url, '--token', (await cloud.personToken('headless')).token]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const deviceId = /device ([0-9a-f-]{36})/.exec(enrolled.stdout)?.[1];

    // Without pages the bundled agent says where it looked, and stops.
    const none = await home.cli(['ui', '--ui-dir', join(pages, 'missing')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no built screens in \S+missing and they cannot be built here .*; pass --ui-dir DIR/);

    const agent = home.start(['--ui', '--ui-dir', pages]);
    await agent.waitFor(/screens: http:\/\/127\.0\.0\.1:\d+\/status\.html \(open the address in \S+,/, 30_000);
    // Not a terminal: the token is never in the output (it would land in the journal).
    expect(agent.output()).not.toContain('#token=');
    const file = /open the address in (\S+),/.exec(agent.output())?.[1] ?? '';
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const address = readFileSync(file, 'utf8').trim();
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/status\.html#token=\S+$/);
    const url = new URL(address);
    const token = url.hash.replace(/^#token=/, '');
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(agent.output()).not.toContain(token);

    const page = await fetch(url.origin + url.pathname);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const call = (channel: string, auth = `Bearer ${token}`) =>
      fetch(`${url.origin}/ipc/${channel}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: '{}' });
    expect((await call('status:get', 'Bearer wrong')).status).toBe(403);
    const status = (await (await call('status:get')).json()) as { ok: boolean; value: { state: string; deviceId: string; captureSources: { ok: boolean }[] } };
    expect(status.ok).toBe(true);
    expect(status.value.deviceId).toBe(deviceId);
    expect(status.value.state).toBe('waiting_for_consent');
    const consent = (await (await call('consent:get')).json()) as { ok: boolean; value: { decisionNeeded: boolean; policy: { version: number } | null } };
    expect(consent.value.decisionNeeded).toBe(true);
    expect(consent.value.policy?.version).toBeGreaterThanOrEqual(1);

    expect(await agent.stop('SIGTERM')).toBe(0);
    // Its token is void once the agent stops, and so is the file.
    expect(existsSync(file)).toBe(false);
    // The server is gone with the agent.
    await expect(fetch(url.origin + url.pathname)).rejects.toThrow();
  });
});
