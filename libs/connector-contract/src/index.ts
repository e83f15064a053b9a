export * from './connector-mapping';
export * from './source-mapping';
