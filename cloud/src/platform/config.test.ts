import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config';

describe('config', () => {
  it('has defaults that start a development server on PGlite', () => {
    const config = parseConfig({});
    expect(config.PORT).toBe(8787);
    expect(config.DATA_DIR).toBe('./var');
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('makes a demo org on a first start in development, never in production', () => {
    expect(parseConfig({}).DEMO_SEED).toBe(true);
    expect(parseConfig({ DEMO_SEED: 'false' }).DEMO_SEED).toBe(false);
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/icarus',
      TITLE_KEY: Buffer.alloc(32, 1).toString('base64'),
      TOKEN_SECRET: Buffer.alloc(32, 2).toString('base64'),
      RECEIPT_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----',
    };
    expect(parseConfig(production).DEMO_SEED).toBe(false);
    expect(() => parseConfig({ ...production, DEMO_SEED: 'true' })).toThrow(/DEMO_SEED: a production start makes no demo org/);
  });

  it('names the bad variable', () => {
    expect(() => parseConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => parseConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => parseConfig({ TITLE_KEY: 'c2hvcnQ=' })).toThrow(/TITLE_KEY: must be 32 bytes/);
  });

  it.each([
    ['DATABASE_POOL_SIZE', '0'],
    ['PUBLIC_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['TOKEN_SECRET', 'dG9vIHNob3J0'],
    ['RECEIPT_SIGNING_KEY', 'not a pem'],
    ['MAX_BODY_BYTES', '12'],
    ['ACCESS_TOKEN_TTL_SECONDS', '5'],
    ['TRUST_PROXY', 'yes'],
    ['OIDC_ORG_ID', 'acme'],
    ['SMTP_URL', 'http://mail.example'],
    ['NOTIFY_POLL_MS', '1'],
    ['DEVICE_SILENT_DAYS', '0'],
    ['DEMO_SEED', 'maybe'],
  ])('a bad %s is refused with a message naming it', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(new RegExp(`^\\s*${name}: `, 'm'));
  });

  it('names the single sign-on settings still missing when only some are set', () => {
    expect(() => parseConfig({ OIDC_ISSUER: 'https://idp.example' })).toThrow(/OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_ORG_ID must be set too/);
  });

  it('refuses to run in production on generated secrets', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/TITLE_KEY, TOKEN_SECRET, RECEIPT_SIGNING_KEY, DATABASE_URL/);
  });
});
