import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyContent } from '@icarus/shared';
import { defaultPolicy } from '../../cloud/src/modules/consent/default-policy';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { ManualClock } from '../../desktop-agent/src/core/clock';
import { ConsentService } from '../../desktop-agent/src/core/consent/service';
import { BindingClient } from '../../desktop-agent/src/core/sync/binding';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import { enroll, TokenSource } from '../../desktop-agent/src/core/sync/auth';
import type { AgentPort } from '../../desktop-agent/src/ui/agent-port';
import { buildUi } from '../../desktop-agent/src/ui/build';
import { createAgentHandlers } from '../../desktop-agent/src/ui/handlers';
import { startUiServer, type UiServer } from '../../desktop-agent/src/ui/server';

/** The policy the screens are tested with: every scope, redacted titles, review before send. */
export function richPolicy(orgName: string): PolicyContent {
  const base = defaultPolicy(orgName);
  return {
    ...base,
    scopes: [
      ...base.scopes,
      { scope: 'window_titles', purpose: 'Which document or site is in front, with names redacted, to group time by project.', legalBasis: 'consent' },
    ],
    titleMode: 'redacted',
    redactionRules: [{ pattern: '[\\w.+-]+@[\\w-]+\\.[\\w.]+', replacement: '[email]' }],
    reviewBeforeSendMinutes: 30,
  };
}

export interface UiAgent {
  cloud: TestCloud;
  store: AgentStore;
  clock: ManualClock;
  consent: ConsentService;
  ui: UiServer;
  assetsDir: string;
  stop(): Promise<void>;
}

/**
 * A real enrolled agent (real cloud on PGlite or PostgreSQL, real SQLite store, real signed
 * receipts) behind the real loopback UI server; only the front window is fixed, so the consent
 * dialog's example is stable in screenshots.
 */
export async function startUiAgent(now: number): Promise<UiAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'icarus-ui-'));
  const cloud = await startTestCloud();
  await cloud.cloud.services.consent.publish(cloud.bootstrap.orgId, richPolicy('Demo Org'), { type: 'system', id: 'ui-test' });
  const clock = new ManualClock(now);
  const store = AgentStore.open(join(dir, 'data'));
  const device = await enroll({
    serverUrl: cloud.url,
    enrollmentToken: (await cloud.personToken('alex')).token,
    deviceName: 'ui-test',
    osUser: 'alex',
    platform: 'linux',
    agentVersion: '0.1.0',
    keyFile: store.keyFile,
  });
  store.state.setDevice(device);
  const tokens = new TokenSource(device);
  const consent = new ConsentService(store, tokens, clock, '0.1.0');
  await consent.fetchPolicy();
  const port: AgentPort = {
    store,
    consent,
    clock,
    agentVersion: '0.1.0',
    osUser: 'alex',
    runtime: () => ({
      captureSources: [
        { name: 'x11', ok: true },
        { name: 'xprintidle', ok: true },
      ],
      lastSyncMs: undefined,
      lastSyncError: undefined,
    }),
    frontWindow: async () => ({ app: 'firefox', title: 'Q3 plan — mail from alex@example.com — Mozilla Firefox' }),
    idleMs: async () => 4_000,
    binding: new BindingClient(store, tokens),
    notice: { fetch: () => consent.fetchNotice(), acknowledge: (version, hash) => consent.acknowledgeNotice(version, hash) },
  };
  const assetsDir = await buildUi(join(dir, 'ui'));
  const ui = await startUiServer({ handlers: createAgentHandlers(port), assetsDir });
  return {
    cloud,
    store,
    clock,
    consent,
    ui,
    assetsDir,
    async stop() {
      await ui.close();
      store.close();
      await cloud.stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
