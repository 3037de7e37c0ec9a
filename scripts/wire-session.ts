/**
 * Walks the wire protocol against a running cloud, printing each exchange:
 * enroll -> token -> [pair] -> binding -> policy -> consent -> ingest -> resend (all duplicates).
 *   npm run wire-session -- <enrollment token> [server URL] [pairing code]
 * With a fleet token the device speaks for no one until paired: pass a pairing code (My data →
 * Pair a computer) or a per-user token (admin → Enrollment tokens → For one person).
 */
import { WIRE_PATHS } from '@icarus/shared';
import { createTestDevice, json, makeSpans } from '../cloud/test/support/device-client';

const [token, server = 'http://127.0.0.1:8787', code] = process.argv.slice(2);
if (!token) {
  process.stderr.write('usage: npm run wire-session -- <enrollment token> [server URL] [pairing code]\n');
  process.exit(2);
}
const fetchPath = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${server}${path}`, init);
  const body = await res.clone().text();
  process.stdout.write(`${init?.method ?? 'GET'} ${path} -> ${res.status} ${body.length > 400 ? `${body.slice(0, 400)}…` : body}\n\n`);
  return res;
};

const device = await createTestDevice(fetchPath, server, token, process.env.USER ?? 'demo');
const auth = { authorization: `Bearer ${device.accessToken}` };
if (code) await fetchPath(WIRE_PATHS.pair, json({ code }, auth));
await fetchPath(WIRE_PATHS.binding, { headers: auth });
await device.consent(['app_usage', 'idle']);
const spans = makeSpans(5, { app: 'Terminal' });
await device.ingest(spans, { gzip: true });
await device.ingest(spans);
