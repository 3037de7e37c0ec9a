import { gzipSync } from 'node:zlib';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { uuidv7 } from 'uuidv7';
import { WIRE_PATHS, type Ed25519PublicJwk, type Scope, type Span } from '@icarus/shared';

type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

/** A device as tests drive it over HTTP: its own key pair, enrollment and access token. */
export async function createTestDevice(fetchPath: Fetch, baseUrl: string, enrollmentToken: string, osUser = 'alice') {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk = await exportJWK(publicKey);
  const publicKeyJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) };
  const enrolled = await fetchPath(WIRE_PATHS.enroll, json({ enrollmentToken, deviceName: 'test-laptop', platform: 'linux', osUser, publicKeyJwk }));
  if (enrolled.status !== 201) throw new Error(`enroll failed: ${enrolled.status} ${await enrolled.text()}`);
  const { deviceId, orgId } = (await enrolled.json()) as { deviceId: string; orgId: string };

  async function assertion(overrides: { aud?: string; lifetime?: number; jti?: string; iss?: string; issuedInSeconds?: number } = {}) {
    const now = Math.floor(Date.now() / 1000) + (overrides.issuedInSeconds ?? 0);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(overrides.iss ?? deviceId)
      .setSubject(overrides.iss ?? deviceId)
      .setAudience(overrides.aud ?? `${baseUrl}${WIRE_PATHS.token}`)
      .setIssuedAt(now)
      .setExpirationTime(now + (overrides.lifetime ?? 60))
      .setJti(overrides.jti ?? uuidv7())
      .sign(privateKey);
  }

  const tokenResponse = await fetchPath(WIRE_PATHS.token, json({ assertion: await assertion() }));
  if (tokenResponse.status !== 200) throw new Error(`token failed: ${tokenResponse.status} ${await tokenResponse.text()}`);
  const { accessToken } = (await tokenResponse.json()) as { accessToken: string };
  const auth = { authorization: `Bearer ${accessToken}` };

  return {
    deviceId,
    orgId,
    accessToken,
    assertion,
    /** The device's public key, a valid Ed25519 point (for tests that enroll with it again). */
    publicKeyJwk,
    async policyVersion(): Promise<number> {
      const res = await fetchPath(WIRE_PATHS.policy, { headers: auth });
      return ((await res.json()) as { version: number }).version;
    },
    async consent(scopes: Scope[], decision: 'granted' | 'declined' | 'withdrawn' = 'granted', policyVersion?: number) {
      const version = policyVersion ?? (await this.policyVersion());
      return fetchPath(WIRE_PATHS.consent, json({ policyVersion: version, scopes, decision }, auth));
    },
    async ingest(spans: unknown[], options: { gzip?: boolean; batchId?: string; extra?: Record<string, unknown> } = {}) {
      const body = JSON.stringify({ batchId: options.batchId ?? uuidv7(), spans, ...options.extra });
      return fetchPath(WIRE_PATHS.ingest, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth, ...(options.gzip ? { 'content-encoding': 'gzip' } : {}) },
        body: options.gzip ? gzipSync(body) : body,
      });
    },
  };
}
export type TestDevice = Awaited<ReturnType<typeof createTestDevice>>;

export function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** Where the next default batch may begin: spans of one device never overlap, so calls follow each other. */
let nextFree = 0;

/**
 * Active spans of one app, one a second from `from` (default: now, i.e. after any consent so far,
 * or after the spans of the previous default call, whichever is later).
 */
export function makeSpans(count: number, options: { app?: string; title?: string; from?: number } = {}): Span[] {
  const from = options.from ?? Math.max(Date.now(), nextFree);
  if (options.from === undefined) nextFree = from + count * 1000;
  return Array.from({ length: count }, (_, i) => ({
    id: uuidv7(),
    start: new Date(from + i * 1000).toISOString(),
    durationMs: 900,
    app: options.app ?? 'Code',
    ...(options.title !== undefined ? { title: options.title } : {}),
  }));
}
