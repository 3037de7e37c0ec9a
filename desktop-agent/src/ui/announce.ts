import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from '../core/store/private-files';

/** Where a non-interactive `icarus-agent ui` leaves the token-bearing address, in the data folder. */
export const SCREENS_ADDRESS_FILE = 'screens-address';

export interface ScreensAnnouncement {
  /** The line to print: the full address on a terminal, else the address without its token and the file's path. */
  line: string;
  /** The file holding the full address, when one was written; removed by `cleanup`. */
  file: string | undefined;
  cleanup(): void;
}

/**
 * How `icarus-agent ui` tells the person where the screens are. The address's `#token=` is the
 * session secret: on a terminal only the person sees it, but under systemd (or any redirect)
 * stdout lands in the journal or a log file others may read. Then the full address goes to a
 * file only this user can read (0600, created so, never widened) in the agent's data folder,
 * and the printed line names that file and shows the address without the token.
 */
export function announceScreens(pageUrl: string, options: { isTTY: boolean; dataDir: string }): ScreensAnnouncement {
  if (options.isTTY) return { line: `screens: ${pageUrl} (also consent.html, my-data.html and imports.html, same token)`, file: undefined, cleanup: () => {} };
  const file = join(options.dataDir, SCREENS_ADDRESS_FILE);
  // A fresh file renamed over any old one: an existing file's looser mode is never reused.
  writePrivateFile(file, `${pageUrl}\n`);
  const bare = pageUrl.replace(/#.*$/, '');
  return {
    line: `screens: ${bare} (open the address in ${file}, readable only by you: it carries the session token; also consent.html, my-data.html and imports.html, same token)`,
    file,
    cleanup: () => rmSync(file, { force: true }),
  };
}
