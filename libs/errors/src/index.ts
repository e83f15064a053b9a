export * from './errors';
export * from './input-checks';
