export * from './env-reader';
export * from './catalogue';
export * from './pem-file';
