export * from './trigger-service';
export * from './outbox-relay';
export * from './outbox-store';
export * from './event-encoding';
export * from './event-sink';
export * from './event-topics';
