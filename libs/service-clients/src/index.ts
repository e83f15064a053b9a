export * from './store-email';
