// Events for other consumers: the catalogue, the outbox modules write to, the relay that
// publishes it and the port a broker adapter implements.
export {
  EVENT_CATALOGUE,
  EVENT_NAMES,
  EVENT_TYPE_PREFIX,
  CloudEventEnvelope,
  cloudEventType,
  parseCloudEvent,
  type EventData,
  type EventName,
  type NewEvent,
} from './catalogue';
export { createEventOutbox, NO_EVENTS, type EventOutbox } from './outbox';
export { createEventOutboxStore, type ClaimedEvent } from './outbox-store';
export { createEventRelay, toCloudEvent, type EventRelay, type RelayOptions } from './relay';
export { CLOUDEVENTS_JSON, type EventPublisher, type OutgoingEvent } from './publisher';
