// Test-only: a real SMTP server and a real webhook receiver on loopback, each able to fail on demand.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  subject: string;
}

/** Decodes RFC 2047 encoded words (nodemailer uses them for subjects with quotes or non-ASCII). */
function decodeHeader(value: string): string {
  const unfolded = value.replace(/\r?\n[ \t]/g, ' ').trim();
  return unfolded.replace(/\?=\s+=\?/g, '?==?').replace(/=\?utf-8\?([qb])\?(.*?)\?=/gi, (_m, enc: string, text: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_h, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

/** An SMTP server on 127.0.0.1 (no TLS, no auth) keeping every message it accepts. */
export async function startSmtpServer(port = 0) {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        // Undo quoted-printable soft line breaks so assertions can look for whole words.
        const text = Buffer.concat(chunks).toString('utf8');
        const split = text.indexOf('\r\n\r\n');
        const raw = text.slice(0, split) + text.slice(split).replace(/=\r?\n/g, '');
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        mails.push({
          from,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject: decodeHeader(/^Subject: (.*(?:\r?\n[ \t].*)*)$/m.exec(raw)?.[1] ?? ''),
        });
        callback();
      });
    },
  });
  // A client cut off mid-session (a process killed on purpose) is reported here as an error
  // event: without a listener it would be thrown, uncaught, at whichever test runs then.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const address = server.server.address() as AddressInfo;
  return {
    port: address.port,
    url: `smtp://127.0.0.1:${address.port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port that was free a moment ago: where an SMTP server "is down" until one starts there. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface ReceivedHook {
  deliveryId: string;
  body: string;
  status: number;
  signatureValid: boolean;
  headers: Record<string, string>;
  /** When it arrived (ms since the epoch). */
  at: number;
}

/**
 * A webhook receiver that verifies each delivery with the Standard Webhooks reference library
 * (`standardwebhooks`, not the server's own code) and `secretOf()`; answers 500 while
 * `failures` > 0, and `gone` (410) once that is set.
 */
export async function startWebhookReceiver(secretOf: () => string) {
  const received: ReceivedHook[] = [];
  const state = { failures: 0, gone: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v ?? '')]));
      let signatureValid = false;
      try {
        // Checks the signature over id, timestamp and body, and that the timestamp is within 5 minutes.
        new Webhook(secretOf()).verify(body, headers);
        signatureValid = true;
      } catch {
        signatureValid = false;
      }
      const status = state.gone ? 410 : state.failures > 0 ? 500 : signatureValid ? 204 : 401;
      if (state.failures > 0) state.failures--;
      received.push({ deliveryId: headers['webhook-id'] ?? '', body, status, signatureValid, headers, at: Date.now() });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls `check` until it returns a value (not undefined/false) or the time runs out. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
