export * from './settings';
export * from './defaults';
export * from './validate';
export * from './folder-path';
