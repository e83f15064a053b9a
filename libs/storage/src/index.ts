export * from './storage-service';
export * from './email-store';
export * from './connector-log';
export * from './dedupe-keys';
export * from './retention';
export * from './storage-connectors';
export { STORAGE_MIGRATIONS } from './migrations';
