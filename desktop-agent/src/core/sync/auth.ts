import { randomUUID } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import { EnrollResponse, MAX_ASSERTION_LIFETIME_S, TokenResponse, WIRE_PATHS, type EnrollRequest } from '@icarus/shared';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { createDeviceKey, fileKeyVault, loadDeviceKey, type DeviceKeyVault } from '../store/identity';
import type { DeviceIdentity } from '../store/state';
import { ApiClient } from './http';

export interface EnrollInput {
  serverUrl: string;
  enrollmentToken: string;
  deviceName: string;
  osUser: string;
  platform: EnrollRequest['platform'];
  agentVersion: string;
  keyFile: string;
  /** Where the private key goes instead of `keyFile` (the tray app's keychain-sealed store). */
  keyVault?: DeviceKeyVault;
}

/** Makes the key pair, registers the public half with the enrollment token. */
export async function enroll(input: EnrollInput, clock: Clock = systemClock): Promise<DeviceIdentity> {
  const vault = input.keyVault ?? fileKeyVault(input.keyFile);
  const publicKeyJwk = await createDeviceKey(vault);
  const api = new ApiClient(input.serverUrl);
  const body: EnrollRequest = {
    enrollmentToken: input.enrollmentToken,
    deviceName: input.deviceName,
    platform: input.platform,
    osUser: input.osUser,
    publicKeyJwk,
    agentVersion: input.agentVersion,
  };
  const { deviceId, orgId } = await api.request('POST', WIRE_PATHS.enroll, EnrollResponse, { body });
  return { deviceId, orgId, serverUrl: input.serverUrl, keyFile: vault.location, enrolledMs: clock.now() };
}

/** Refresh this long before expiry, so a token never expires mid-request. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * Access tokens from a signed assertion (RFC 7523 style): iss = sub = device id, aud = the
 * token URL, a short expiry and a fresh jti each time (the server refuses replays).
 */
export class TokenSource {
  private cached: { token: string; expiresAt: number } | undefined;
  private key: CryptoKey | undefined;
  readonly api: ApiClient;

  constructor(
    private readonly device: DeviceIdentity,
    private readonly clock: Clock = systemClock,
    private readonly keyVault: DeviceKeyVault = fileKeyVault(device.keyFile),
  ) {
    this.api = new ApiClient(device.serverUrl);
  }

  async assertion(): Promise<string> {
    this.key ??= await loadDeviceKey(this.keyVault);
    const nowS = Math.floor(this.clock.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setIssuer(this.device.deviceId)
      .setSubject(this.device.deviceId)
      .setAudience(this.api.url(WIRE_PATHS.token))
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + Math.min(120, MAX_ASSERTION_LIFETIME_S))
      .setJti(randomUUID())
      .sign(this.key);
  }

  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt - REFRESH_MARGIN_MS > this.clock.now()) return this.cached.token;
    const assertion = await this.assertion();
    const response = await this.api.request('POST', WIRE_PATHS.token, TokenResponse, { body: { assertion } });
    this.cached = { token: response.accessToken, expiresAt: this.clock.now() + response.expiresIn * 1000 };
    return response.accessToken;
  }

  /** After a 401: the server no longer takes the cached token. */
  invalidate(): void {
    this.cached = undefined;
  }
}
