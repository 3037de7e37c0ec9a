import { uuidv7 } from 'uuidv7';
import type { Database, Queryable } from '../db/client';
import { EVENT_CATALOGUE, type NewEvent } from './catalogue';
import { eventOutbox } from './tables';

/**
 * Where modules record the events of their changes. Enabled only when a broker is configured:
 * otherwise nothing is written and a change costs no more than before.
 */
export interface EventOutbox {
  readonly enabled: boolean;
  /** Writes the events through `tx`, the handle of the transaction that makes the change. */
  add(tx: Queryable, ...events: NewEvent[]): Promise<void>;
  /**
   * Runs `work` in one transaction when events are recorded (so the change and its events commit
   * together), or straight on the database when they are not (no transaction is needed then).
   */
  atomically<T>(database: Database, work: (tx: Database) => Promise<T>): Promise<T>;
}

export function createEventOutbox(options: { enabled: boolean; now?: () => Date }): EventOutbox {
  const now = options.now ?? (() => new Date());
  return {
    enabled: options.enabled,
    async add(tx, ...events) {
      if (!options.enabled || events.length === 0) return;
      const rows = events.map((event) => {
        // A module's bug is caught here, before anything personal could leave: strict schemas refuse unknown fields.
        const data = EVENT_CATALOGUE[event.name].data.parse(event.data) as Record<string, unknown>;
        const orgId = String(data['orgId']);
        return { orgId, id: uuidv7(), name: event.name, subject: event.subject, time: event.time ?? now(), data };
      });
      await tx.db.insert(eventOutbox).values(rows);
    },
    atomically: (database, work) => (options.enabled ? database.transaction(work) : work(database)),
  };
}

/** Events never recorded: for module tests and tools that run without a broker. */
export const NO_EVENTS: EventOutbox = createEventOutbox({ enabled: false });
