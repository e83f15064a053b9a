export * from './console-config';
export * from './console-server';
