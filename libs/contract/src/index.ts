export * from './access-mapping';
export * from './connector-mapping';
export * from './source-mapping';
export * from './email-mapping';
