export * from './database-config';
export * from './open-database';
export * from './serial-gate';
export * from './database-errors';
export * from './transaction-runner';
