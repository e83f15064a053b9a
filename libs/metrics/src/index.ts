export * from './endpoint';
export * from './metrics';
