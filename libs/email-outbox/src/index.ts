export * from './outbox-entity';
