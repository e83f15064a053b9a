export * from './store-emails';
export * from './internal-token';
export * from './service-security';
