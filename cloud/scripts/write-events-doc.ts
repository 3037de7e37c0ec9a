// Writes docs/EVENTS.md from the event catalogue's zod schemas.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderEventCatalogue } from '../src/platform/events/catalogue-doc';

const target = fileURLToPath(new URL('../../docs/EVENTS.md', import.meta.url));
writeFileSync(target, renderEventCatalogue());
console.log(`wrote ${target}`);
