// The image's HEALTHCHECK: is this container's cloud answering? Plain Node, no curl in the image.
// `node deploy/healthcheck.mjs` asks /healthz (the process answers); `node deploy/healthcheck.mjs
// /readyz` also needs the database (what compose waits on). With TLS_CERT the cloud serves only
// HTTPS, on a certificate made for its public name, so this loopback probe does not check the
// name (it checks health, not identity).
const path = process.argv[2] ?? '/healthz';
if (path !== '/healthz' && path !== '/readyz') {
  process.stderr.write(`healthcheck: unknown path ${path} (use /healthz or /readyz)\n`);
  process.exit(2);
}
const tls = Boolean(process.env.TLS_CERT);
if (tls) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
const url = `${tls ? 'https' : 'http'}://127.0.0.1:${process.env.PORT || 8787}${path}`;
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
