/**
 * Real capture: Xvfb + openbox + xterm windows with known titles (one with '=', one non-ASCII
 * UTF-8 set through _NET_WM_NAME), focus switched with wmctrl, spans stored in a real SQLite
 * file, under each title mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scope, TitleMode } from '@icarus/shared';
import { systemClock } from '../../desktop-agent/src/core/clock';
import { Collector } from '../../desktop-agent/src/core/capture/collector';
import { SpanMerger } from '../../desktop-agent/src/core/capture/merger';
import { GetWindowsSource } from '../../desktop-agent/src/core/capture/os-sources';
import { X11Capture } from '../../desktop-agent/src/core/capture/x11-source';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import { startXDisplay, xDisplayUnavailableReason, type XDisplay, type XWindow } from '../helpers/xdisplay';

const noX = xDisplayUnavailableReason();
if (noX) console.warn(`skipping real capture tests: ${noX}`);

const EDITOR_TITLE = 'report.txt = draft?id=42&x=1';
const MAIL_TITLE = 'Posteingang — Zürich 東京 (3) ann@example.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** When an action happened, as an interval: a loaded machine makes xdotool/wmctrl slow. */
async function timed(action: () => Promise<unknown>): Promise<{ before: number; after: number }> {
  const before = Date.now();
  await action();
  return { before, after: Date.now() };
}
/** A span between two actions lasts at least (b.before - a.after) and at most (b.after - a.before), give or take a sample. */
function expectBetween(durationMs: number | undefined, a: { before: number; after: number }, b: { before: number; after: number }, slackMs: number) {
  expect(durationMs).toBeGreaterThanOrEqual(b.before - a.after - slackMs);
  expect(durationMs).toBeLessThanOrEqual(b.after - a.before + slackMs);
}

describe.skipIf(noX !== undefined)('capture on a real X display', () => {
  let x: XDisplay;
  let editor: XWindow;
  let mail: XWindow;
  const dirs: string[] = [];

  beforeAll(async () => {
    x = await startXDisplay();
    [editor, mail] = await Promise.all([x.openWindow(EDITOR_TITLE, 'Editor'), x.openWindow('mail', 'Mail')]);
    await x.setUtf8Title(mail, MAIL_TITLE);
  });
  afterAll(async () => {
    await x?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function capture(titleMode: TitleMode, scopes: Scope[], idleThresholdMs = 60_000) {
    const dir = mkdtempSync(join(tmpdir(), 'icarus-capture-'));
    dirs.push(dir);
    const store = AgentStore.open(dir);
    const x11 = new X11Capture(x.display);
    const granted = new Set(scopes);
    const collector = new Collector({
      window: x11.window,
      idle: x11.idle,
      merger: new SpanMerger({
        intervalMs: 100,
        idleThresholdMs,
        title: {
          titleMode,
          redactionRules: [
            { pattern: '[\\w.]+@[\\w.]+', replacement: '[email]' },
            { pattern: '\\?.*$', replacement: '' },
          ],
        },
      }),
      clock: systemClock,
      intervalMs: 100,
      scopes: () => granted,
      onSpans: (spans) => store.spans.insert(spans, Date.now()),
    });
    return { store, x11, collector };
  }

  it.each<[TitleMode, string, string]>([
    ['full', EDITOR_TITLE, MAIL_TITLE],
    ['redacted', 'report.txt = draft', 'Posteingang — Zürich 東京 (3) [email]'],
    ['hashed', createHash('sha256').update(EDITOR_TITLE).digest('hex'), createHash('sha256').update(MAIL_TITLE).digest('hex')],
  ])('records app and %s titles of the window in front, with durations', async (mode, editorTitle, mailTitle) => {
    const { store, x11, collector } = await capture(mode, ['app_usage', 'window_titles']);
    await x.nudge();
    await x.activate(editor);
    collector.start();
    await sleep(800);
    const toMail = await timed(() => x.activate(mail));
    await sleep(800);
    const toEditor = await timed(() => x.activate(editor));
    await sleep(500);
    await collector.stop();
    x11.close();
    const spans = store.spans.everything();
    store.close();
    expect(spans.map((s) => [s.app, s.title])).toEqual([
      ['Editor', editorTitle],
      ['Mail', mailTitle],
      ['Editor', editorTitle],
    ]);
    expectBetween(spans[1]?.durationMs, toMail, toEditor, 150); // 100 ms sampling
    expect(spans[1]?.durationMs).toBeGreaterThanOrEqual(650);
    expect(collector.sourceStatus()).toEqual([
      { name: 'x11-window', ok: true },
      { name: 'x11-idle', ok: true },
    ]);
  });

  it('keeps no title without window_titles, and records idle only with the idle scope', async () => {
    const { store, x11, collector } = await capture('full', ['app_usage', 'idle'], 700);
    await x.activate(mail);
    await x.nudge();
    const started = await timed(async () => collector.start());
    await sleep(300);
    const lastInput = await timed(() => x.nudge()); // the active span ends here
    await sleep(1500); // no input: idle from the nudge, noticed 700 ms later
    const back = await timed(() => x.nudge());
    await sleep(400);
    await collector.stop();
    x11.close();
    const spans = store.spans.everything();
    store.close();
    expect(spans.map((s) => (s.idle ? 'idle' : s.app))).toEqual(['Mail', 'idle', 'Mail']);
    expect(spans.every((s) => s.title === undefined)).toBe(true);
    // The idle span starts at the last input (the X server's clock), not when the threshold was crossed.
    expectBetween(spans[0]?.durationMs, started, lastInput, 150);
    expectBetween(spans[1]?.durationMs, lastInput, back, 150);
    expect(spans[1]?.durationMs).toBeGreaterThanOrEqual(1400);
  });

  it('get-windows also sees the front window (titles without "=")', async () => {
    const plain = await x.openWindow('plain title', 'Plain');
    await x.activate(plain);
    const saved = process.env.DISPLAY;
    process.env.DISPLAY = x.display;
    try {
      expect(await new GetWindowsSource().frontWindow()).toEqual({ app: 'Plain', title: 'plain title' });
    } finally {
      if (saved === undefined) delete process.env.DISPLAY;
      else process.env.DISPLAY = saved;
    }
  });

  it('reports a missing display as unavailable instead of failing', async () => {
    const x11 = new X11Capture(':987');
    expect(await x11.window.frontWindow()).toBeUndefined();
    expect(x11.window.health()).toMatchObject({ ok: false, problem: expect.stringMatching(/^unavailable: cannot connect to X display :987/) });
    const none = new X11Capture(undefined);
    expect(await none.idle.idleMs()).toBeUndefined();
    expect(none.idle.health()).toMatchObject({ ok: false, problem: expect.stringMatching(/no DISPLAY/) });
  });
});
