export * from './backoff';
export * from './wakeup';
export * from './clock';
