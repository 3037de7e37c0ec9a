import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Everything the agent keeps is personal data or a secret, so it is readable by its user alone:
 * folders 0700, files 0600. Modes given at creation are masked by the umask and ignored for
 * what already exists, so each helper also sets the mode explicitly.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700); // an existing folder (an earlier agent, a package script, a person) keeps its mode otherwise
}

/** Makes an existing file private, or creates it empty and private. */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

/** Makes a file private if it exists (SQLite's -wal and -shm come and go). */
export function tightenIfPresent(file: string): void {
  if (existsSync(file)) chmodSync(file, 0o600);
}

/** Writes a fresh 0600 file and renames it over `file`: the content never sits in a looser file. */
export function writePrivateFile(file: string, content: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true }); // left by a crash of an earlier agent with this pid
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeFileSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
