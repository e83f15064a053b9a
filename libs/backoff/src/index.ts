export * from './backoff';
export * from './wakeup';
