import type { MenuItemConstructorOptions } from 'electron';
import type { AgentState, PausePreset, StatusView } from '@icarus/shared';
import { format, tray as t } from '../ui/pages/strings';

/** One icon per state, so the person sees at a glance whether anything is being recorded. */
export const TRAY_ICONS: Record<AgentState, string> = {
  recording: 'tray-recording.png',
  paused: 'tray-paused.png',
  waiting_for_consent: 'tray-waiting.png',
  offline: 'tray-offline.png',
  capture_failing: 'tray-failing.png',
  not_enrolled: 'tray-waiting.png',
  revoked: 'tray-revoked.png',
};

export function trayTooltip(s: StatusView): string {
  switch (s.state) {
    case 'recording':
      return format(t.recording, { scopes: s.scopesActive.join(', ') });
    case 'paused':
      return format(t.paused, { until: s.pausedUntil ? new Date(s.pausedUntil).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '' });
    case 'offline':
      return format(t.offline, { pending: String(s.pendingSpans) });
    case 'capture_failing':
      return format(t.capture_failing, { problem: s.captureSources.find((c) => !c.ok)?.problem ?? '' });
    case 'not_enrolled':
    case 'revoked':
    case 'waiting_for_consent':
      return t[s.state];
  }
}

export interface TrayActions {
  pause(preset: PausePreset): void;
  resume(): void;
  openMyData(): void;
  openConsent(): void;
  openImports(): void;
  about(): void;
  quit(): void;
}

/**
 * The tray menu for a state: pause choices while recording, resume while paused. A revoked
 * device never records again, so it offers no pause or resume at all, only the screens (its
 * data stays on it and can still be seen, exported and deleted) and quit.
 */
export function trayMenuTemplate(s: StatusView, act: TrayActions): MenuItemConstructorOptions[] {
  const revoked = s.state === 'revoked';
  const paused = s.state === 'paused';
  const canPause = s.state === 'recording' || s.state === 'offline' || s.state === 'capture_failing';
  return [
    { label: trayTooltip(s), enabled: false },
    { type: 'separator', visible: !revoked },
    { id: 'pause-15m', label: t.pause15, enabled: canPause, visible: !revoked, click: () => act.pause('15m') },
    { id: 'pause-1h', label: t.pause60, enabled: canPause, visible: !revoked, click: () => act.pause('1h') },
    { id: 'pause-tomorrow', label: t.pauseTomorrow, enabled: canPause, visible: !revoked, click: () => act.pause('tomorrow') },
    { id: 'resume', label: t.resume, visible: paused, click: () => act.resume() },
    { type: 'separator' },
    { id: 'my-data', label: t.myData, click: () => act.openMyData() },
    { id: 'consent', label: t.privacy, click: () => act.openConsent() },
    { id: 'imports', label: t.imports, click: () => act.openImports() },
    { id: 'about', label: t.about, click: () => act.about() },
    { type: 'separator' },
    { id: 'quit', label: t.quit, click: () => act.quit() },
  ];
}

export function aboutText(s: StatusView): string {
  return format(t.aboutDetail, { version: s.agentVersion, server: s.serverUrl ?? t.notSet, device: s.deviceId ?? t.notSet });
}
