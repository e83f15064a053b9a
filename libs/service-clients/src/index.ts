export * from './store-email';
export * from './internal-token';
