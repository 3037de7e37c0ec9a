import pkg from 'electron-updater';

// electron-updater's named ESM exports fail at run time; the default export carries them.
const { autoUpdater } = pkg;

export interface UpdaterOptions {
  /** The generic feed (latest.yml etc.) IT hosts; from managed config, never from the person. */
  feedUrl: string;
  log: (line: string) => void;
}

/**
 * Updates from a signed feed only: electron-updater checks the feed's sha512 for every file and,
 * on Windows, that the new installer is signed by the same publisher as the running one
 * (`publisherName` in the build config); macOS refuses an update whose code signature differs.
 * Downloads happen in the background and install when the app quits, never mid-recording.
 */
export function setupUpdater(options: UpdaterOptions): () => Promise<void> {
  autoUpdater.setFeedURL({ provider: 'generic', url: options.feedUrl });
  autoUpdater.autoDownload = true;
  autoUpdater.autoInstallOnAppQuit = true;
  autoUpdater.allowDowngrade = false;
  autoUpdater.allowPrerelease = false;
  autoUpdater.on('error', (error: Error) => options.log(`update: ${error.message}`));
  autoUpdater.on('update-downloaded', (info: { version: string }) => options.log(`update: ${info.version} ready, installs on quit`));
  return async () => {
    await autoUpdater.checkForUpdates();
  };
}
