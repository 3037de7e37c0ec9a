import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError, type Config } from './config';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads TLS_CERT and TLS_KEY when the cloud serves TLS itself. A missing file or a key that
 * does not match its certificate stops the start with a message naming the variable, rather
 * than a server that listens and then fails every handshake.
 */
export function loadTlsFiles(config: Pick<Config, 'TLS_CERT' | 'TLS_KEY'>): TlsFiles | undefined {
  if (config.TLS_CERT === undefined || config.TLS_KEY === undefined) return undefined;
  const read = (name: 'TLS_CERT' | 'TLS_KEY', path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`Invalid configuration: ${name}: cannot read ${path} (${error instanceof Error ? error.message : String(error)})`);
    }
  };
  const files = { cert: read('TLS_CERT', config.TLS_CERT), key: read('TLS_KEY', config.TLS_KEY) };
  try {
    createSecureContext(files);
  } catch (error) {
    throw new ConfigError(`Invalid configuration: TLS_CERT/TLS_KEY: ${error instanceof Error ? error.message : String(error)}`);
  }
  return files;
}
