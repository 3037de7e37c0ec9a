import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config';

describe('config', () => {
  it('has defaults that start a development server on PGlite', () => {
    const config = parseConfig({});
    expect(config.PORT).toBe(8787);
    expect(config.DATA_DIR).toBe('./var');
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('names the bad variable', () => {
    expect(() => parseConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => parseConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => parseConfig({ TITLE_KEY: 'c2hvcnQ=' })).toThrow(/TITLE_KEY: must be 32 bytes/);
  });

  it('refuses to run in production on generated secrets', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/TITLE_KEY, TOKEN_SECRET, RECEIPT_SIGNING_KEY, DATABASE_URL/);
  });
});
