/** One HTTP POST of a webhook body; redirects are not followed (a redirect is not a delivery). */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** Posts the body and answers the receiver's status; the response body is drained so the connection is reused. */
export async function postWebhook(request: WebhookRequest): Promise<number> {
  const response = await fetch(request.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    body: request.body,
    redirect: 'manual',
    signal: AbortSignal.timeout(request.timeoutMs),
  });
  await response.arrayBuffer().catch(() => undefined);
  return response.status;
}
