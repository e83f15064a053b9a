export * from './env-reader';
export * from './catalogue';
