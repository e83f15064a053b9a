export * from './store-emails';
export * from './internal-token';
