export * from './api-token';
export * from './permissions';
export * from './principal';
export * from './rate-limiter';
export * from './token-cache';
export * from './workspace';
export * from './records';
