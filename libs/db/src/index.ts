export * from './database-config';
export * from './open-database';
