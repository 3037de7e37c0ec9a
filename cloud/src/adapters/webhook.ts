import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { OutboundRefused, resolveOutboundTarget, type AllowedHost, type OutboundTarget, type ResolveHost } from '../platform/outbound-address';

/** One HTTP POST of a webhook body; redirects are not followed (a redirect is not a delivery). */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A delivery that did not reach a receiver that answered. The message is the same for a
 * refused connection, a timeout, a TLS failure or a reset, so the delivery log cannot tell an
 * admin which ports answer where; the detail stays in `cause` for the operator's log.
 */
export class WebhookUnanswered extends Error {}

export interface WebhookClient {
  /** Checks a URL as a delivery would (scheme, host, every resolved address); throws OutboundRefused. */
  check(url: string): Promise<OutboundTarget>;
  /** Checks the URL again, connects to the address it checked, posts; answers the receiver's status. */
  post(request: WebhookRequest): Promise<number>;
}

/** A lookup that answers only the address already checked: the connection cannot be re-resolved elsewhere. */
function pinnedLookup(target: OutboundTarget): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

export function createWebhookClient(options: { allowHosts: readonly AllowedHost[]; timeoutMs: number; resolve?: ResolveHost }): WebhookClient {
  const check = (url: string) => resolveOutboundTarget(url, options.allowHosts, options.resolve);

  return {
    check,
    async post(request) {
      const target = await check(request.url);
      const https = target.url.protocol === 'https:';
      const body = Buffer.from(request.body, 'utf8');
      const requestOptions: RequestOptions = {
        method: 'POST',
        hostname: target.hostname,
        port: target.port,
        path: `${target.url.pathname}${target.url.search}`,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...request.headers },
        lookup: pinnedLookup(target),
        // A fresh connection per delivery: a pooled socket would skip this delivery's address check.
        agent: false,
        signal: AbortSignal.timeout(options.timeoutMs),
      };
      return new Promise<number>((resolve, reject) => {
        const unanswered = (cause: unknown) => reject(new WebhookUnanswered('the receiver could not be reached or did not answer in time', { cause }));
        const req = (https ? httpsRequest : httpRequest)(requestOptions, (res) => {
          // The body is not read: only the status counts, and a receiver cannot make us buffer.
          res.on('error', unanswered);
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', unanswered);
        req.end(body);
      });
    },
  };
}

export { OutboundRefused };
