export * from './status';
export * from './server';
export * from './handlers';
export * from './client';
export * from './gate';
export * from './transport';
export * from './lifecycle';
export * from './run-service';
