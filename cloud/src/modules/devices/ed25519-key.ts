// A device's public key is every later assertion's only proof of identity. Node and jose
// accept any 32 bytes as an Ed25519 key, including the all-zero key under which an all-zero
// signature verifies; so enrollment decodes the point itself (RFC 8032 §5.1.3) and refuses
// keys that are not on the curve or have small order.
const P = 2n ** 255n - 19n;
const D = mod(-121665n * inverse(121666n));
const SQRT_M1 = power(2n, (P - 1n) / 4n);

function mod(a: bigint): bigint {
  const r = a % P;
  return r >= 0n ? r : r + P;
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = mod(result * b);
    b = mod(b * b);
  }
  return result;
}

function inverse(a: bigint): bigint {
  return power(a, P - 2n);
}

/** The affine point a 32-byte encoding names, or undefined when it names none. */
function decodePoint(bytes: Uint8Array): { x: bigint; y: bigint } | undefined {
  if (bytes.length !== 32) return undefined;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? (bytes[i] ?? 0) & 0x7f : (bytes[i] ?? 0));
  const sign = ((bytes[31] ?? 0) >> 7) & 1;
  if (y >= P) return undefined;
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * inverse(v));
  let root = power(x, (P + 3n) / 8n);
  if (mod(root * root) !== x) root = mod(root * SQRT_M1);
  if (mod(root * root) !== x) return undefined;
  x = root;
  if (x === 0n && sign === 1) return undefined;
  if (Number(x & 1n) !== sign) x = mod(-x);
  return { x, y };
}

function double({ x, y }: { x: bigint; y: bigint }): { x: bigint; y: bigint } {
  const xy = mod(x * y);
  const dxxyy = mod(D * xy * xy);
  return { x: mod(2n * xy * inverse(1n + dxxyy)), y: mod((y * y + x * x) * inverse(1n - dxxyy)) };
}

/** True for the encoding of a curve point of large (prime) order: a key a device could hold. */
export function isUsableEd25519Key(x: string): boolean {
  const point = decodePoint(Buffer.from(x, 'base64url'));
  if (!point) return false;
  const eightTimes = double(double(double(point)));
  return !(eightTimes.x === 0n && eightTimes.y === 1n);
}
