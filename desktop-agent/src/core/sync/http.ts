import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import type { z } from 'zod';
import { ApiError } from '@icarus/shared';

/** The server answered with an error status; `retryAfterMs` from a Retry-After header. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs: number | undefined,
    /** The server's per-field reasons (ApiError `fields`), when it gave any. */
    readonly fields: readonly { path: string; problem: string }[] = [],
  ) {
    super(message);
    this.name = 'HttpError';
  }

  /**
   * Worth retrying later: the server is overloaded, rate-limiting or broken, not refusing. An
   * answer that cannot be read (a captive portal's page, a proxy's, a body cut short) says
   * nothing about the batch, which the server may well have stored: it goes again later under
   * the same id, never marked refused.
   */
  get transient(): boolean {
    return this.status === 429 || this.status === 408 || this.status >= 500 || this.code === 'bad_response';
  }

  /**
   * The organisation revoked this device: the cloud's 403 names the device as revoked. Other
   * 403s (a proxy's page, a device not matched to a person) are not a revocation.
   */
  get revoked(): boolean {
    return this.status === 403 && this.code === 'forbidden' && this.fields.some((f) => f.path === 'device' && f.problem === 'revoked');
  }
}

/** The request never got an HTTP answer (refused, reset, timed out, DNS). */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface RequestOptions {
  body?: unknown;
  bearer?: string;
  gzip?: boolean;
  timeoutMs?: number;
}

/** JSON over HTTP to the cloud, every answer validated with the shared schema. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  url(path: string): string {
    // Relative resolution keeps a base path (https://host/icarus/) in front of /v1/...
    return new URL(path.replace(/^\//, ''), this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`).toString();
  }

  async request<T extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: T, options: RequestOptions = {}): Promise<z.infer<T>> {
    const { status, text } = await this.exchange(method, path, options);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new HttpError(status, 'bad_response', `${method} ${path} answered ${status} with a body that is not JSON`, undefined);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new HttpError(status, 'bad_response', `${method} ${path} answered with an unexpected body: ${parsed.error.message}`, undefined);
    }
    return parsed.data;
  }

  /** The body as text, for answers that are not one JSON document (a CSV export). */
  async requestText(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<string> {
    return (await this.exchange(method, path, options)).text;
  }

  /** Sends, and turns any non-2xx answer into an HttpError carrying the server's own words. */
  private async exchange(method: 'GET' | 'POST', path: string, options: RequestOptions): Promise<RawResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: Buffer | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      const json = JSON.stringify(options.body);
      if (options.gzip) {
        headers['content-encoding'] = 'gzip';
        body = gzipSync(json);
      } else body = Buffer.from(json, 'utf8');
    }
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    let response: RawResponse;
    try {
      response = await send(method, this.url(path), headers, body, options.timeoutMs ?? 20_000);
    } catch (error) {
      throw new NetworkError(`${method} ${path} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const { text } = response;
    if (response.status < 200 || response.status > 299) {
      let code = `http_${response.status}`;
      let message = `${method} ${path} answered ${response.status}`;
      let fields: { path: string; problem: string }[] = [];
      try {
        const parsed = ApiError.safeParse(JSON.parse(text));
        if (parsed.success) {
          code = parsed.data.error.code;
          fields = parsed.data.error.fields ?? [];
          const named = fields.map((f) => `${f.path}: ${f.problem}`).join('; ');
          message = `${message} ${code}: ${parsed.data.error.message}${named ? ` (${named})` : ''}`;
        }
      } catch {
        // Not JSON (a proxy's error page): the status alone says enough.
      }
      throw new HttpError(response.status, code, message, parseRetryAfter(response.retryAfter), fields);
    }
    return response;
  }
}

interface RawResponse {
  status: number;
  text: string;
  retryAfter: string | null;
}

/**
 * One request with node:http(s) rather than fetch: fetch loads undici and its WebAssembly HTTP
 * parser, which costs the long-running agent ~20 MB of memory for nothing it needs.
 */
function send(method: string, url: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(target, { method, headers: { ...headers, ...(body && { 'content-length': String(body.length) }) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), retryAfter: typeof retryAfter === 'string' ? retryAfter : null });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
