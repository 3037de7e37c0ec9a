import { describe, expect, it, vi } from 'vitest';

// The Electron module cannot load here; the shell only needs its dialog, which a fake stands in for.
vi.mock('electron', () => ({ dialog: { showOpenDialog: () => Promise.reject(new Error('no system dialog in tests')) } }));

const { chooseActivityWatchExport, messageAnnouncer } = await import('./agent-shell');

describe('the import screen file dialog (tray app)', () => {
  it('opens one file, JSON first, and answers its path', async () => {
    const open = { showOpenDialog: vi.fn(async () => ({ canceled: false, filePaths: ['/home/fay/Downloads/aw-buckets-export.json'] })) };
    await expect(chooseActivityWatchExport(open as never)).resolves.toBe('/home/fay/Downloads/aw-buckets-export.json');
    const options = open.showOpenDialog.mock.calls[0] as unknown as [{ properties: string[]; filters: { extensions: string[] }[] }];
    expect(options[0].properties).toEqual(['openFile']);
    expect(options[0].filters[0]?.extensions).toEqual(['json']);
  });

  it('answers null when the person closes it without choosing', async () => {
    const open = { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) };
    await expect(chooseActivityWatchExport(open as never)).resolves.toBeNull();
  });
});

describe("the organisation's messages as system notifications (tray app)", () => {
  const message = (id: string, text: string) => ({ id, text, receivedAt: new Date().toISOString() });

  it('announces each new message once, oldest first, but not those held when the app started', () => {
    const shown: string[] = [];
    const announce = messageAnnouncer((m) => shown.push(m.text));
    announce([message('m-1', 'held before start')]);
    expect(shown).toEqual([]);
    // Newest first, as the screens list them.
    announce([message('m-3', 'third'), message('m-2', 'second'), message('m-1', 'held before start')]);
    expect(shown).toEqual(['second', 'third']);
    announce([message('m-3', 'third'), message('m-2', 'second')]);
    announce([message('m-3', 'third')]);
    expect(shown).toEqual(['second', 'third']);
  });
});
