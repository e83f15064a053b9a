export * from './status';
export * from './server';
export * from './handlers';
export * from './client';
export * from './lifecycle';
export * from './run-service';
