import { BrowserWindow, type WebContents } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type AgentPage = 'consent' | 'my-data' | 'status' | 'imports';

export interface WindowPaths {
  /** Output of buildUi(): the HTML pages and their scripts. */
  pagesDir: string;
  /** The bundled sandboxed preload. */
  preloadFile: string;
}

/**
 * The agent's own windows. Only these may talk to main over IPC, and only pages from the agent's
 * own pages folder may load in them.
 */
export class AgentWindows {
  private readonly open = new Map<AgentPage, BrowserWindow>();

  constructor(private readonly paths: WindowPaths) {}

  /** True for the web contents of a window this class created, showing one of our pages. */
  owns(contents: WebContents): boolean {
    const win = BrowserWindow.fromWebContents(contents);
    return win !== null && [...this.open.values()].includes(win) && this.isOwnPage(contents.getURL());
  }

  isOwnPage(url: string): boolean {
    return url.startsWith(pathToFileURL(this.paths.pagesDir).href + '/');
  }

  isOpen(page: AgentPage): boolean {
    return this.open.has(page);
  }

  show(page: AgentPage): BrowserWindow {
    const existing = this.open.get(page);
    if (existing && !existing.isDestroyed()) {
      existing.show();
      existing.focus();
      return existing;
    }
    const win = new BrowserWindow({
      width: page === 'consent' ? 760 : 900,
      height: 860,
      show: false,
      title: 'Icarus Nova',
      autoHideMenuBar: true,
      webPreferences: {
        preload: this.paths.preloadFile,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        spellcheck: false,
      },
    });
    // No pop-ups at all; the policy link opens in the person's browser via main, never in-app.
    win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    // Links between our pages are fine; anything else (a title rendered as a link, say) is not.
    win.webContents.on('will-navigate', (event, url) => {
      if (!this.isOwnPage(url)) event.preventDefault();
    });
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => this.open.delete(page));
    this.open.set(page, win);
    void win.loadFile(join(this.paths.pagesDir, `${page}.html`));
    return win;
  }
}
