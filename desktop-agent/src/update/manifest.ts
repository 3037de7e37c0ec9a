import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '@icarus/shared';

/**
 * The headless agent's update check. The release pipeline publishes `manifest.json`: the manifest
 * as canonical JSON plus an Ed25519 signature over exactly those bytes. The agent trusts only the
 * public keys it shipped with (or IT pinned in managed config); anything unsigned, signed by
 * another key, altered, for another product, or older than what runs is refused.
 */

export const UpdateArtifact = z.strictObject({
  platform: z.enum(['linux', 'darwin', 'win32']),
  arch: z.enum(['x64', 'arm64']),
  kind: z.enum(['deb', 'rpm', 'tar.gz']),
  url: z.url({ protocol: /^https?$/ }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.int().min(1),
});
export type UpdateArtifact = z.infer<typeof UpdateArtifact>;

export const UpdateManifest = z.strictObject({
  product: z.literal('icarus-nova-agent'),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  channel: z.enum(['stable', 'beta']),
  publishedAt: z.iso.datetime(),
  artifacts: z.array(UpdateArtifact).min(1),
});
export type UpdateManifest = z.infer<typeof UpdateManifest>;

export const SignedManifest = z.strictObject({
  /** The manifest as canonical JSON text: these exact bytes are signed. */
  manifest: z.string().max(256 * 1024),
  keyId: z.string().min(1).max(64),
  /** Ed25519 signature over the UTF-8 bytes of `manifest`, base64url. */
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
});
export type SignedManifest = z.infer<typeof SignedManifest>;

export class UpdateRefused extends Error {
  override name = 'UpdateRefused';
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Release side: signs a manifest (kept here so tests and the release script use one format). */
export function signManifest(manifest: UpdateManifest, privateKey: KeyObject, keyId: string): SignedManifest {
  const text = canonicalJson(UpdateManifest.parse(manifest));
  return { manifest: text, keyId, signature: sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64url') };
}

/** Trusted keys by id: Ed25519 public keys as SPKI PEM. */
export type TrustedKeys = Readonly<Record<string, string>>;

/** Verifies the signature first, and only then reads the manifest. */
export function verifyManifest(raw: unknown, trusted: TrustedKeys): UpdateManifest {
  const signed = SignedManifest.safeParse(raw);
  if (!signed.success) throw new UpdateRefused(`update manifest refused: not a signed manifest (${signed.error.issues[0]?.message ?? ''})`);
  const pem = trusted[signed.data.keyId];
  if (pem === undefined) throw new UpdateRefused(`update manifest refused: signed by unknown key "${signed.data.keyId}"`);
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new UpdateRefused(`update manifest refused: trusted key "${signed.data.keyId}" is not Ed25519`);
  const ok = verify(null, Buffer.from(signed.data.manifest, 'utf8'), key, Buffer.from(signed.data.signature, 'base64url'));
  if (!ok) throw new UpdateRefused('update manifest refused: the signature does not verify');
  let parsed: unknown;
  try {
    parsed = JSON.parse(signed.data.manifest);
  } catch {
    throw new UpdateRefused('update manifest refused: signed text is not JSON');
  }
  const manifest = UpdateManifest.safeParse(parsed);
  if (!manifest.success) throw new UpdateRefused(`update manifest refused: ${manifest.error.issues[0]?.message ?? 'bad manifest'}`);
  return manifest.data;
}

export type UpdateDecision = { update: false; reason: string } | { update: true; version: string; artifact: UpdateArtifact };

/** What to do with a verified manifest on this machine. A feed older than what runs is refused. */
export function decideUpdate(
  manifest: UpdateManifest,
  running: { version: string; platform: string; arch: string; kind: UpdateArtifact['kind']; channel?: UpdateManifest['channel'] },
): UpdateDecision {
  // A beta build offered to an agent that follows stable (or the reverse) is a misdirected feed.
  if (running.channel !== undefined && manifest.channel !== running.channel) {
    throw new UpdateRefused(`update manifest refused: it is for the ${manifest.channel} channel, this agent follows ${running.channel}`);
  }
  const order = compareVersions(manifest.version, running.version);
  // A validly signed but older manifest is a replayed feed (or a rollback attack): never install it, say so.
  if (order < 0) throw new UpdateRefused(`update manifest refused: it offers ${manifest.version}, older than the running ${running.version} (a downgrade)`);
  if (order === 0) return { update: false, reason: `up to date: running ${running.version}, the feed offers ${manifest.version}` };
  const artifact = manifest.artifacts.find((a) => a.platform === running.platform && a.arch === running.arch && a.kind === running.kind);
  if (!artifact) return { update: false, reason: `no ${running.kind} for ${running.platform}/${running.arch} in ${manifest.version}` };
  return { update: true, version: manifest.version, artifact };
}

/** The downloaded package must be exactly the one the signed manifest names. */
export function verifyArtifact(bytes: Uint8Array, artifact: UpdateArtifact): void {
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (bytes.byteLength !== artifact.size || digest !== artifact.sha256) {
    throw new UpdateRefused(`downloaded ${artifact.url} does not match the signed manifest (sha256 ${digest})`);
  }
}

/** Downloads the package a verified manifest names and checks it is byte for byte that one. */
export async function downloadArtifact(artifact: UpdateArtifact, fetchImpl: typeof fetch = fetch): Promise<Uint8Array> {
  const response = await fetchImpl(artifact.url, { signal: AbortSignal.timeout(120_000) });
  if (!response.ok) throw new Error(`update package ${artifact.url} answered ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  verifyArtifact(bytes, artifact);
  return bytes;
}

/** One check against the feed: fetch, verify, decide. Network or refusal errors propagate. */
export async function checkForUpdate(
  feedUrl: string,
  trusted: TrustedKeys,
  running: Parameters<typeof decideUpdate>[1],
  fetchImpl: typeof fetch = fetch,
): Promise<UpdateDecision> {
  const response = await fetchImpl(feedUrl, { signal: AbortSignal.timeout(20_000) });
  if (!response.ok) throw new Error(`update feed ${feedUrl} answered ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new UpdateRefused(`update manifest refused: ${feedUrl} did not answer JSON`);
  }
  return decideUpdate(verifyManifest(body, trusted), running);
}
