import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENT_CATALOGUE, EVENT_NAMES, parseCloudEvent } from './catalogue';
import { renderEventCatalogue } from './catalogue-doc';
import { createEventOutbox } from './outbox';

const page = fileURLToPath(new URL('../../../../docs/EVENTS.md', import.meta.url));

describe('the event catalogue', () => {
  it('docs/EVENTS.md is what the schemas say (run `npm run docs:events` after changing them)', () => {
    expect(readFileSync(page, 'utf8')).toBe(renderEventCatalogue());
  });

  it('refuses data with a field the catalogue does not name, so nothing extra (a title, an email) can ride along', async () => {
    const outbox = createEventOutbox({ enabled: true });
    const orgId = '01a23000-0000-7000-8000-000000000001';
    const handle = { kind: 'pglite' as const, db: {} as never, rows: async () => [] };
    const event = { name: 'device.revoked' as const, subject: orgId, data: { orgId, deviceId: orgId, name: 'Zebedee laptop' } };
    await expect(outbox.add(handle, event)).rejects.toThrow(/name/);
  });

  it('every data schema is strict and names the org, and an envelope of another type is refused', () => {
    for (const name of EVENT_NAMES) {
      const shape = EVENT_CATALOGUE[name].data.shape as Record<string, unknown>;
      expect(Object.keys(shape), name).toContain('orgId');
    }
    const envelope = {
      specversion: '1.0',
      id: '01a23000-0000-7000-8000-000000000001',
      source: 'urn:icarus-nova',
      type: 'com.icarusnova.device.stolen',
      time: new Date().toISOString(),
      subject: 'x',
      datacontenttype: 'application/json',
      data: { orgId: '01a23000-0000-7000-8000-000000000001' },
    };
    expect(() => parseCloudEvent(envelope)).toThrow(/unknown event type/);
  });
});
