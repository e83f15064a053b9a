export * from './settings';
export * from './fields';
export * from './defaults';
export * from './validate';
export * from './folder-path';
export * from './message-source';
export * from './document';
export * from './oauth-presets';
