// docs/EVENTS.md, written from the catalogue's zod schemas (`npm run docs:events`); a test
// compares the page with this output, so the page cannot drift from what is published.
import { z } from 'zod';
import { CloudEventEnvelope, EVENT_CATALOGUE, EVENT_NAMES, cloudEventType } from './catalogue';

/** JSON Schema of a zod schema; a uuid or date-time says its format and leaves out zod's long equivalent pattern. */
const jsonSchema = (schema: z.ZodType) =>
  JSON.stringify(
    z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: 'output',
      override: (ctx) => {
        if (ctx.jsonSchema.format === 'uuid' || ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
      },
    }),
    null,
    2,
  );

export function renderEventCatalogue(): string {
  const lines = [
    '# Events',
    '',
    '<!-- Generated from cloud/src/platform/events/catalogue.ts by `npm run docs:events`; a test fails when this page is stale. -->',
    '',
    'With `AMQP_URL` set, every change below writes an event into the `event_outbox` table in the same',
    'transaction as the change; a relay in each worker process publishes the outbox to RabbitMQ with publisher',
    'confirms and marks rows sent, retrying with backoff while the broker is away. Nothing is lost in an outage',
    'and nothing is recorded without `AMQP_URL`. Delivery is at least once: a relay that dies between the',
    "broker's confirmation and marking the row sent publishes it again, with the same `id` and body, so",
    'consumers de-duplicate on (`source`, `id`).',
    '',
    '- **Exchange**: a durable topic exchange, `AMQP_EXCHANGE` (default `icarus.events`); messages are persistent.',
    '- **Routing key**: the event name (`consent.granted`), so a queue binds `consent.*`, `device.#` or `#`.',
    '- **Message**: CloudEvents 1.0 in structured mode, content type `application/cloudevents+json`, the',
    '  event `id` also as the AMQP `message-id` and its `type` as the AMQP `type`.',
    '- **Source**: `EVENT_SOURCE` (default `urn:icarus-nova`), one per deployment.',
    '',
    '## Ids, never content',
    '',
    'An event names the org, person, device, policy version, batch or notification it is about by id, with',
    'counts, times and scope names. Titles, app names, names, emails, host names, OS accounts and message',
    'text never leave in an event. A consumer that needs more asks the API with its own credentials, so what',
    'it may read is decided and audited there, and an erased person leaves nothing readable behind in a',
    "broker, a consumer's store or its logs: a bare id means nothing without access to this system.",
    '',
    '## Envelope',
    '',
    '```json',
    jsonSchema(CloudEventEnvelope),
    '```',
    '',
    '## Catalogue',
    '',
    '| type | routing key | subject | when |',
    '|---|---|---|---|',
    ...EVENT_NAMES.map((name) => `| \`${cloudEventType(name)}\` | \`${name}\` | ${EVENT_CATALOGUE[name].subject} | ${EVENT_CATALOGUE[name].summary} |`),
    '',
  ];
  for (const name of EVENT_NAMES) {
    lines.push(
      `### ${cloudEventType(name)}`,
      '',
      EVENT_CATALOGUE[name].summary,
      '',
      '`data`:',
      '',
      '```json',
      jsonSchema(EVENT_CATALOGUE[name].data),
      '```',
      '',
    );
  }
  return lines.join('\n');
}
